import type { PoolClient } from 'pg';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';

/** Outbox rows per queue message: a few KB of ids, far below SQS's 256 KB. */
export const ACTIVITIES_PER_MESSAGE = 500;

/** What the webhooks FIFO queue carries: which outbox rows, in which lane. Payloads stay in the store. */
export interface LaneMessage {
  readonly account: number;
  readonly lane: number;
  readonly outbox: readonly number[];
}

/**
 * Called in the same transaction that records contact activities, so an activity is
 * handed to webhook delivery exactly when it is committed. Only accounts with a webhook
 * get rows. The share lock on the endpoint makes a relay (or a resume) wait for this
 * transaction, so rows reach the queue in outbox order with none skipped.
 * After commit, `relayWebhookOutbox` moves the rows to the queue.
 */
export async function publishRecordedActivities(client: PoolClient, accountId: number, activityIds: readonly number[]): Promise<void> {
  if (activityIds.length === 0) return;
  // One round trip. The EXISTS is a one-time filter evaluated before any row reaches the
  // INSERT, so the share lock is held before outbox ids are drawn (the relay relies on it).
  // Each given id is looked up by primary key alone: `OFFSET 0` keeps the lookup from being
  // flattened into a join, and keeps the account test outside it. Inside, `account_id = $1`
  // let a plan made on a near-empty table pick the change-tracking index (account_id,
  // change_xid, id), which reads the account's whole history for every id.
  await client.query({
    name: 'webhook-publish',
    text: `INSERT INTO webhook_outbox (account_id, activity_id)
     SELECT $1, activity.id
       FROM unnest($2::bigint[]) WITH ORDINALITY AS given(id, position)
      CROSS JOIN LATERAL (SELECT a.id, a.account_id FROM contact_activities a WHERE a.id = given.id OFFSET 0) activity
      WHERE activity.account_id = $1 AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE account_id = $1 FOR SHARE)
      ORDER BY given.position`,
    values: [accountId, activityIds],
  });
}

/**
 * Sends the account's outbox rows not yet queued in its current lane to the FIFO queue,
 * in order, one message group per account. Safe to call any time and concurrently:
 * the endpoint row lock serialises relays of one account. Returns how many rows it queued.
 */
export async function relayWebhookOutbox(platform: Platform, accountId: number): Promise<number> {
  return withTransaction(platform.db, async (client) => {
    // Locks the endpoint until commit and claims the rows above its watermark (migration 702); no rows
    // when the endpoint is gone, suspended, or has nothing new.
    const { rows } = await client.query<{ lane: number; outbox_id: number }>({
      name: 'webhook-relay-claim',
      text: 'SELECT lane, outbox_id FROM webhook_relay_claim($1)',
      values: [accountId],
    });
    if (rows.length === 0) return 0;
    const lane = rows[0]!.lane;
    const ids = rows.map((row) => row.outbox_id).sort((a, b) => a - b);
    const messages = [];
    for (let start = 0; start < ids.length; start += ACTIVITIES_PER_MESSAGE) {
      const outbox = ids.slice(start, start + ACTIVITIES_PER_MESSAGE);
      const message: LaneMessage = { account: accountId, lane, outbox };
      messages.push({
        body: JSON.stringify(message),
        groupId: String(accountId),
        // A relay whose commit failed after sending repeats itself: SQS drops the copy.
        deduplicationId: `${lane}-${outbox[0]}-${outbox[outbox.length - 1]}`,
      });
    }
    // Sent before commit: if sending fails the rows stay unqueued for the next relay.
    await platform.queue.send('webhooks', messages);
    return ids.length;
  });
}

/**
 * Relays every active account's outbox rows that are not in the queue yet: the safety net
 * for a relay that failed after its activities were committed. Returns how many rows it queued.
 */
export async function relayPendingOutboxes(platform: Platform): Promise<number> {
  const { rows } = await platform.db.query<{ account_id: number }>(
    `SELECT DISTINCT outbox.account_id
       FROM webhook_outbox outbox
       JOIN webhook_endpoints endpoint ON endpoint.account_id = outbox.account_id
      WHERE endpoint.state = 'active' AND outbox.id > endpoint.relayed_through`,
  );
  let queued = 0;
  for (const { account_id: accountId } of rows) queued += await relayWebhookOutbox(platform, accountId);
  return queued;
}

/**
 * For a queue that lost what it held (the local runtime's SQS server keeps messages in memory
 * only, so a restart empties it): every row still in an active endpoint's outbox counts as not
 * queued again and is relayed anew, in order. Rows already delivered are gone from the outbox;
 * a batch that was waiting out its backoff is tried at once. Returns how many rows it queued.
 */
export async function requeueWebhookOutboxes(platform: Platform): Promise<number> {
  await platform.db.query(
    `UPDATE webhook_endpoints e SET relayed_through = pending.first_id - 1
       FROM (SELECT account_id, min(id) AS first_id FROM webhook_outbox GROUP BY account_id) pending
      WHERE pending.account_id = e.account_id AND e.state = 'active' AND e.relayed_through >= pending.first_id`,
  );
  return relayPendingOutboxes(platform);
}
