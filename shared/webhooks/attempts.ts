import type { Pool } from 'pg';
import type { WebhookOutcome } from './webhook-request';

export interface AttemptRecord {
  readonly accountId: number;
  readonly at: Date;
  readonly webhookId: string;
  readonly activityIds: readonly number[];
  readonly outcome: WebhookOutcome;
  readonly delivered: boolean;
}

const insertAttempt = `INSERT INTO webhook_attempts
    (account_id, attempted_at, webhook_id, activity_count, first_activity_id, last_activity_id, delivered, status_code, error, latency_ms, response_excerpt)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;

function attemptParameters(attempt: AttemptRecord): unknown[] {
  const { outcome } = attempt;
  return [
    attempt.accountId,
    attempt.at,
    attempt.webhookId,
    attempt.activityIds.length,
    attempt.activityIds[0] ?? null,
    attempt.activityIds[attempt.activityIds.length - 1] ?? null,
    attempt.delivered,
    outcome.kind === 'answered' ? outcome.status : null,
    outcome.kind === 'failed' ? `${outcome.code}: ${outcome.error}` : null,
    outcome.latencyMs,
    outcome.kind === 'answered' ? outcome.excerpt : null,
  ];
}

/**
 * A delivered POST, in one statement (one round trip, all or nothing): the attempt is
 * logged, its activities leave the outbox, and the endpoint's failure streak and the POST
 * it was retrying end.
 */
export async function recordDelivery(db: Pool, attempt: AttemptRecord, outboxIds: readonly number[]): Promise<void> {
  await db.query({
    name: 'webhook-record-delivery',
    text: `WITH attempt AS (${insertAttempt}),
          delivered AS (DELETE FROM webhook_outbox WHERE account_id = $1 AND id = ANY($12::bigint[]))
     UPDATE webhook_endpoints SET consecutive_failures = 0, retry_first_outbox_id = NULL, retry_last_outbox_id = NULL, next_attempt_at = NULL
      WHERE account_id = $1 AND (consecutive_failures <> 0 OR retry_first_outbox_id IS NOT NULL OR next_attempt_at IS NOT NULL)`,
    values: [...attemptParameters(attempt), outboxIds],
  });
}

/**
 * A failed POST, in one statement: the attempt is logged, the lane's failure streak grows
 * and the POST's outbox rows are kept as the ones its retry sends. Returns the streak's
 * length (1 when the lane has changed meanwhile).
 */
export async function recordFailure(db: Pool, attempt: AttemptRecord, lane: number, outboxIds: readonly number[]): Promise<number> {
  const { rows } = await db.query<{ consecutive_failures: number }>(
    `WITH attempt AS (${insertAttempt})
     UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, retry_first_outbox_id = $13, retry_last_outbox_id = $14
      WHERE account_id = $1 AND lane = $12 RETURNING consecutive_failures`,
    [...attemptParameters(attempt), lane, outboxIds[0], outboxIds[outboxIds.length - 1]],
  );
  return rows[0]?.consecutive_failures ?? 1;
}

export interface AttemptView {
  readonly id: number;
  readonly attemptedAt: string;
  readonly webhookId: string;
  readonly activityCount: number;
  readonly firstActivityId?: number;
  readonly lastActivityId?: number;
  readonly delivered: boolean;
  readonly statusCode?: number;
  readonly error?: string;
  readonly latencyMs: number;
  readonly responseExcerpt?: string;
}

interface AttemptRow {
  id: number;
  attempted_at: Date;
  webhook_id: string;
  activity_count: number;
  first_activity_id: number | null;
  last_activity_id: number | null;
  delivered: boolean;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  response_excerpt: string | null;
}

/** Newest first; `before` pages back from an attempt id. */
export async function listAttempts(db: Pool, accountId: number, page: { limit: number; before?: number }): Promise<AttemptView[]> {
  const { rows } = await db.query<AttemptRow>(
    `SELECT id, attempted_at, webhook_id, activity_count, first_activity_id, last_activity_id, delivered,
            status_code, error, latency_ms, response_excerpt
       FROM webhook_attempts
      WHERE account_id = $1 AND ($2::bigint IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [accountId, page.before ?? null, page.limit],
  );
  return rows.map((row) => ({
    id: row.id,
    attemptedAt: row.attempted_at.toISOString(),
    webhookId: row.webhook_id,
    activityCount: row.activity_count,
    ...(row.first_activity_id ? { firstActivityId: row.first_activity_id } : {}),
    ...(row.last_activity_id ? { lastActivityId: row.last_activity_id } : {}),
    delivered: row.delivered,
    ...(row.status_code !== null ? { statusCode: row.status_code } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    latencyMs: row.latency_ms,
    ...(row.response_excerpt !== null ? { responseExcerpt: row.response_excerpt } : {}),
  }));
}

/** Rows per DELETE: short transactions, so recording attempts never waits long behind a prune. */
const PRUNE_BATCH_ROWS = 5_000;

const DAY_MS = 24 * 3600 * 1000;

/**
 * Deletes the attempts older than `retentionDays` at `now`, oldest first, a batch per
 * transaction, while `hasTime()` allows another batch. Returns how many it deleted and the
 * cutoff; what is left waits for the next run.
 */
export async function pruneAttempts(
  db: Pool,
  retention: { now: Date; retentionDays: number },
  hasTime: () => boolean,
): Promise<{ deleted: number; cutoff: Date }> {
  const cutoff = new Date(retention.now.getTime() - retention.retentionDays * DAY_MS);
  let deleted = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM webhook_attempts WHERE id IN (
         SELECT id FROM webhook_attempts WHERE attempted_at < $1 ORDER BY attempted_at LIMIT $2)`,
      [cutoff, PRUNE_BATCH_ROWS],
    );
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < PRUNE_BATCH_ROWS || !hasTime()) return { deleted, cutoff };
  }
}
