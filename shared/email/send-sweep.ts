import type { Platform } from '../platform';
import { queueSends } from './deliver-sends';

/**
 * A table of sends handed to a queue and claimed by its worker (email's `message_sends`,
 * SMS and Viber's `text_sends`): the sweep treats each the same way.
 */
export interface SendLedger {
  readonly table: 'message_sends' | 'text_sends';
  /** Queues a lost job again (its sends are claimed once, so a send queued twice leaves once). */
  readonly queue: (platform: Platform, accountId: number, sendIds: readonly number[]) => Promise<void>;
}

export const emailSends: SendLedger = { table: 'message_sends', queue: queueSends };

/** A send still pending this long after it was due has lost its queue message (a failed enqueue, a lost local queue). */
const STALLED_AFTER_SECONDS = 300;

/** A claim older than this belongs to a worker that died mid-send (a send job runs at most a minute). */
const ABANDONED_AFTER_SECONDS = 3600;

/**
 * Queues again the sends whose queue message was lost: pending and due for longer than
 * `STALLED_AFTER_SECONDS` (or all due ones with `everyDue`, for a queue known to be empty,
 * as the local runtime's is at start). Their due time moves on, so the next sweep leaves
 * them to the queue; a send queued twice is still sent once (the claim).
 */
export async function requeueStalledSends(platform: Platform, ledger: SendLedger, options: { everyDue?: boolean } = {}): Promise<number> {
  const now = platform.clock.now();
  const before = new Date(now.getTime() - (options.everyDue ? 0 : STALLED_AFTER_SECONDS * 1000));
  const { rows } = await platform.db.query<{ account_id: number; ids: (number | string)[] }>(
    `WITH stalled AS (
       UPDATE ${ledger.table} SET due_at = $2 WHERE id IN (SELECT id FROM ${ledger.table} WHERE state = 'pending' AND due_at <= $1 ORDER BY id LIMIT 100000)
       RETURNING id, account_id
     )
     SELECT account_id, array_agg(id ORDER BY id) AS ids FROM stalled GROUP BY account_id`,
    [before, now],
  );
  // bigint[] comes back as text from pg (only single int8 values are parsed as numbers).
  for (const row of rows) await ledger.queue(platform, Number(row.account_id), row.ids.map(Number));
  return rows.reduce((total, row) => total + row.ids.length, 0);
}

/**
 * Closes the claims of workers that died between handing a message over and recording it:
 * the send may have left, so it is never tried again (at most once); it becomes `failed`
 * with the reason, so nothing stays `sending` for ever. No activity: nobody knows the outcome.
 */
export async function closeAbandonedClaims(platform: Platform, ledger: SendLedger): Promise<number> {
  const before = new Date(platform.clock.now().getTime() - ABANDONED_AFTER_SECONDS * 1000);
  const { rowCount } = await platform.db.query(
    `UPDATE ${ledger.table} SET state = 'failed', last_error = 'the worker stopped while handing this send over; it may have left, so it was not tried again'
      WHERE state = 'sending' AND claimed_at < $1`,
    [before],
  );
  return rowCount ?? 0;
}
