import type { PoolClient } from 'pg';

/**
 * Called in the same transaction that records contact activities, so an activity is
 * handed to webhook delivery exactly when it is committed (issue #7 fills this in).
 */
export async function publishRecordedActivities(_client: PoolClient, _accountId: number, _activityIds: readonly number[]): Promise<void> {
  return;
}
