import type { Pool } from 'pg';
import { withTransaction } from '../store/transaction';

/**
 * A token bucket per account in the store, shared by every worker: it fills at the
 * account's rate (emails per second) up to one second's worth, and each email handed to
 * the channel takes a token. `takeSendTokens` grants what the bucket holds now (possibly
 * fewer than asked) and says how long until the rest would be there, so a worker sends what
 * it was granted and queues the remainder for later instead of waiting.
 */
export async function takeSendTokens(
  db: Pool,
  accountId: number,
  wanted: number,
  ratePerSecond: number,
  now: Date,
): Promise<{ granted: number; waitSeconds: number }> {
  if (wanted <= 0) return { granted: 0, waitSeconds: 0 };
  return withTransaction(db, async (client) => {
    await client.query('INSERT INTO email_send_buckets (account_id, tokens, refilled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      accountId,
      ratePerSecond,
      now,
    ]);
    // The row lock serialises the account's concurrent workers.
    const { rows } = await client.query<{ tokens: number; refilled_at: Date }>(
      'SELECT tokens, refilled_at FROM email_send_buckets WHERE account_id = $1 FOR UPDATE',
      [accountId],
    );
    const bucket = rows[0]!;
    const elapsedSeconds = Math.max(0, (now.getTime() - bucket.refilled_at.getTime()) / 1000);
    const filled = Math.min(ratePerSecond, bucket.tokens + elapsedSeconds * ratePerSecond);
    const granted = Math.min(wanted, Math.floor(filled));
    const left = filled - granted;
    await client.query('UPDATE email_send_buckets SET tokens = $2, refilled_at = $3 WHERE account_id = $1', [
      accountId,
      left,
      new Date(Math.max(now.getTime(), bucket.refilled_at.getTime())),
    ]);
    const missing = wanted - granted;
    return { granted, waitSeconds: missing <= 0 ? 0 : Math.max(1, Math.ceil((missing - left) / ratePerSecond)) };
  });
}
