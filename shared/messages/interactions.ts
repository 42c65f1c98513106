import { recordActivities } from '../activities/record';
import type { ActivityStatus } from '../activities/activity-schema';
import { SEND_ORIGIN_COLUMNS, sendActivity, sendOriginOf, withLivingContacts, type SendOriginRow } from '../email/send-activities';
import { NotFound } from '../errors';
import type { Platform } from '../platform';

/** What a device reports about a message it got, and the activity it becomes (seed 001's statuses). */
export const interactionStatuses = { DELIVERED: 'DELIVERED', OPENED: 'RECEIVED', READ: 'RECEIVED', CLICKED: 'CLICKED', UNDELIVERED: 'UNDELIVERED' } as const satisfies Record<string, ActivityStatus>;
export type InteractionStatus = keyof typeof interactionStatuses;

export class InteractionNotFound extends NotFound {
  constructor() {
    super('interaction', 'INTERACTION_NOT_FOUND');
  }
}

/**
 * interactions/{id}/status: the interaction is one send, named by the iid its SENT activity
 * gave it (the requestId instant sends answer). The status becomes that send's activity, with
 * everything the SENT one said about its origin, so webhooks and exports see it like any other.
 */
export async function recordInteractionStatus(platform: Platform, accountId: number, interactionId: string, status: InteractionStatus, at?: Date): Promise<void> {
  const { rows } = await platform.db.query<SendOriginRow>(
    `SELECT ${SEND_ORIGIN_COLUMNS} FROM contact_activities a JOIN message_sends s ON s.activity_id = a.id
      WHERE a.account_id = $1 AND a.iid = $2::uuid AND a.activity_status = 'SENT' LIMIT 1`,
    [accountId, interactionId],
  );
  const row = rows[0];
  if (!row) throw new InteractionNotFound();
  const living = await withLivingContacts(platform.db, [sendOriginOf(row)]);
  if (living.length === 0) return;
  await recordActivities(platform, accountId, [sendActivity(living[0]!, { activityStatus: interactionStatuses[status], activityDateTime: at ?? platform.clock.now() })]);
}
