import * as z from 'zod';
import { logger } from '../logger';
import { destinationPolicy } from '../net/destination-guard';
import type { Platform } from '../platform';
import { QUEUE_RETENTION_DAYS } from '../topology';
import { recordDelivery, recordFailure } from './attempts';
import { nextRetryDelaySeconds } from './backoff';
import { activityColumns, activityPayload, type ActivityRow } from './payload';
import { signatureHeaders } from './signature';
import { sendWebhookRequest } from './webhook-request';

/** One POST carries at most this many bytes of JSON; a longer lane goes out in several, in order. */
export const MAX_POST_BYTES = 512 * 1024;
/** SQS keeps a message QUEUE_RETENTION_DAYS (14); a lane still failing a day before that is parked in the store instead. */
export const PARK_AFTER_SECONDS = (QUEUE_RETENTION_DAYS - 1) * 24 * 3600;
/** Leave the function this much time beyond one request's timeout before starting another POST. */
const DEADLINE_MARGIN_MS = 2_000;

/** A received queue message, as the dispatcher hands it over. */
export interface LaneRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** When SQS first accepted the message: its 14-day retention counts from here. */
  readonly sentAt: Date;
}

const laneMessage = z.object({
  account: z.number().int().positive(),
  lane: z.number().int().positive(),
  outbox: z.array(z.number().int().positive()).min(1),
});

interface EndpointRow {
  url: string;
  state: 'active' | 'suspended';
  lane: number;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  retry_first_outbox_id: number | null;
  retry_last_outbox_id: number | null;
}

interface PendingRow extends ActivityRow {
  outbox_id: number;
  /** Written in the transaction that recorded the activity: its commit, near enough. */
  queued_at: Date;
}

/** The endpoint, with one pending activity per row (or a single row with none). */
type LaneRow = EndpointRow & (PendingRow | { outbox_id: null });

interface ParsedRecord {
  readonly record: LaneRecord;
  readonly lane: number;
  readonly outbox: readonly number[];
}

/**
 * Delivers a batch from the webhooks FIFO queue and returns the message ids to report as
 * batch item failures. Accounts are independent: each account's records go out in queue
 * order, and one failing receiver never holds up another account.
 */
export async function deliverLaneRecords(platform: Platform, records: readonly LaneRecord[], remainingMs: () => number): Promise<string[]> {
  const lanes = new Map<number, ParsedRecord[]>();
  for (const record of records) {
    const parsed = laneMessage.safeParse(safeJson(record.body));
    if (!parsed.success) {
      logger.error('dropping a malformed webhook lane message', { messageId: record.messageId });
      continue;
    }
    const lane = lanes.get(parsed.data.account) ?? [];
    lane.push({ record, lane: parsed.data.lane, outbox: parsed.data.outbox });
    lanes.set(parsed.data.account, lane);
  }
  const results = await Promise.all(
    [...lanes].map(([accountId, lane]) =>
      deliverLane(platform, accountId, lane, remainingMs).catch((error: unknown) => {
        // Unknown failure: retry the whole lane after the queue's visibility timeout.
        logger.error('webhook lane failed', { accountId, error: error instanceof Error ? error.message : String(error) });
        return lane.map((entry) => entry.record.messageId);
      }),
    ),
  );
  return results.flat();
}

async function deliverLane(platform: Platform, accountId: number, entries: readonly ParsedRecord[], remainingMs: () => number): Promise<string[]> {
  // One round trip before the POST: the endpoint and the batch's pending activities together.
  // Rows of a message from an older lane come back too and are dropped below.
  const { rows } = await platform.db.query<LaneRow>({
    name: 'webhook-lane-pending',
    text: `SELECT e.url, e.state, e.lane, e.secret, e.previous_secret, e.previous_secret_expires_at,
            e.retry_first_outbox_id, e.retry_last_outbox_id, pending.*
       FROM webhook_endpoints e
       LEFT JOIN LATERAL (
         SELECT o.id AS outbox_id, o.created_at AS queued_at, ${activityColumns}
           FROM webhook_outbox o JOIN contact_activities a ON a.id = o.activity_id
          WHERE e.state = 'active' AND o.account_id = e.account_id AND o.id = ANY($2::bigint[])
       ) pending ON true
      WHERE e.account_id = $1
      ORDER BY pending.outbox_id`,
    values: [accountId, [...new Set(entries.flatMap((entry) => entry.outbox))]],
  });
  const endpoint = rows[0];
  // No endpoint, a suspended one (its rows wait in the store for a resume), or an older lane: nothing to send.
  if (!endpoint || endpoint.state !== 'active') return [];
  const live = entries.filter((entry) => entry.lane === endpoint.lane);
  if (live.length === 0) return [];

  const recordOf = new Map<number, number>();
  live.forEach((entry, index) => entry.outbox.forEach((id) => recordOf.has(id) || recordOf.set(id, index)));
  const received = rows.filter((row): row is EndpointRow & PendingRow => row.outbox_id !== null && recordOf.has(row.outbox_id));
  const { pending, retriedThrough } = await withRetriedRows(platform, accountId, endpoint, live, received);
  // A lane in backoff waits by design: its lag is the customer's failing endpoint, not the platform's.
  const inBackoff = endpoint.retry_first_outbox_id !== null;

  const now = platform.clock.now();
  const secrets = [endpoint.secret];
  if (endpoint.previous_secret && endpoint.previous_secret_expires_at && endpoint.previous_secret_expires_at > now)
    secrets.push(endpoint.previous_secret);

  for (const chunk of chunksOf(pending, retriedThrough)) {
    const firstRecord = recordOf.get(chunk.rows[0]!.outbox_id) ?? 0;
    const waiting = live.slice(firstRecord).map((entry) => entry.record);
    if (remainingMs() < platform.config.webhookTimeoutMs + DEADLINE_MARGIN_MS) {
      // Out of time, not a failure: hand the rest back for immediate redelivery, in order.
      await platform.queue.delayRedelivery(
        'webhooks',
        waiting.map((record) => record.receiptHandle),
        0,
      );
      return waiting.map((record) => record.messageId);
    }
    const outboxIds = chunk.rows.map((row) => row.outbox_id);
    const webhookId = `msg_${accountId}_${outboxIds[0]}_${outboxIds[outboxIds.length - 1]}`;
    const sentAt = platform.clock.now();
    const outcome = await sendWebhookRequest({
      method: 'POST',
      url: new URL(endpoint.url),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Satellite-Webhooks/1.0',
        ...signatureHeaders(webhookId, sentAt, chunk.body, secrets),
      },
      body: chunk.body,
      timeoutMs: platform.config.webhookTimeoutMs,
      destinations: destinationPolicy(platform.config),
    });
    // Seed 001: anything but HTTP 200 is retried.
    const delivered = outcome.kind === 'answered' && outcome.status === 200;
    const attempt = { accountId, at: sentAt, webhookId, activityIds: chunk.rows.map((row) => row.id), outcome, delivered };
    if (delivered) {
      await recordDelivery(platform.db, attempt, outboxIds);
      platform.metrics.add('WebhookDeliveries', 1);
      if (!inBackoff) {
        const oldest = Math.min(...chunk.rows.map((row) => row.queued_at.getTime()));
        platform.metrics.add('WebhookDeliveryLagSeconds', Math.max(0, (platform.clock.now().getTime() - oldest) / 1000));
      }
      continue;
    }
    platform.metrics.add('WebhookDeliveryFailures', 1);
    const failures = await recordFailure(platform.db, attempt, endpoint.lane, outboxIds);
    return failLane(platform, accountId, endpoint.lane, failures, waiting);
  }
  return [];
}

/**
 * The head of the lane failed. FIFO: report it and every later record of the account as
 * failed, or SQS would deliver the later ones first; hold them back for the backoff delay.
 * A lane that would outlive SQS retention is parked in the store instead and the endpoint
 * suspended; its rows stay in the outbox until `resume`.
 */
async function failLane(platform: Platform, accountId: number, lane: number, failures: number, waiting: readonly LaneRecord[]): Promise<string[]> {
  const delay = nextRetryDelaySeconds(failures, platform.config.webhookRetryBaseSeconds);
  const now = platform.clock.now();
  const oldest = Math.min(...waiting.map((record) => record.sentAt.getTime()));
  if ((now.getTime() - oldest) / 1000 + delay >= PARK_AFTER_SECONDS) {
    await platform.db.query(
      `UPDATE webhook_endpoints SET state = 'suspended', suspended_at = $3, next_attempt_at = NULL, updated_at = now(),
              suspended_reason = 'the receiver kept failing for 13 days; activities are parked until resumed'
        WHERE account_id = $1 AND lane = $2`,
      [accountId, lane, now],
    );
    logger.warn('webhook lane parked', { accountId, failures });
    platform.metrics.add('WebhookEndpointsSuspended', 1);
    return [];
  }
  // Before the queue is told: once the message is hidden, the retry may come back before a later write.
  await platform.db.query('UPDATE webhook_endpoints SET next_attempt_at = $3 WHERE account_id = $1 AND lane = $2', [
    accountId,
    lane,
    new Date(now.getTime() + delay * 1000),
  ]);
  await platform.queue.delayRedelivery(
    'webhooks',
    waiting.map((record) => record.receiptHandle),
    delay,
  );
  return waiting.map((record) => record.messageId);
}

/**
 * A retry sends exactly the rows of the POST that failed at the head of the lane, under the
 * same webhook-id, however the queue batches the lane's messages this time: rows of messages
 * not in this batch are read from the outbox (their messages find nothing left to send when
 * they come up), and rows after them wait for the next POST.
 */
async function withRetriedRows(
  platform: Platform,
  accountId: number,
  endpoint: EndpointRow,
  live: readonly ParsedRecord[],
  received: PendingRow[],
): Promise<{ pending: PendingRow[]; retriedThrough?: number }> {
  const first = endpoint.retry_first_outbox_id;
  const last = endpoint.retry_last_outbox_id;
  if (first === null || last === null || received[0]?.outbox_id !== first) return { pending: received };
  // A lane's messages name consecutive runs of its rows: if this batch names a row at or past
  // the retried POST's last one, it holds all of that POST's rows.
  const batchEnd = Math.max(...live.map((entry) => entry.outbox[entry.outbox.length - 1]!));
  if (batchEnd >= last) return { pending: received, retriedThrough: last };
  const { rows: missing } = await platform.db.query<PendingRow>({
    name: 'webhook-lane-retried',
    text: `SELECT o.id AS outbox_id, o.created_at AS queued_at, ${activityColumns}
       FROM webhook_outbox o JOIN contact_activities a ON a.id = o.activity_id
      WHERE o.account_id = $1 AND o.id > $2 AND o.id <= $3
      ORDER BY o.id`,
    values: [accountId, batchEnd, last],
  });
  return { pending: [...received.filter((row) => row.outbox_id <= last), ...missing], retriedThrough: last };
}

/** The POST bodies, in order: a retried POST's rows alone first, then the rest by size. */
function* chunksOf(rows: readonly PendingRow[], retriedThrough: number | undefined): Generator<{ rows: PendingRow[]; body: string }> {
  if (retriedThrough === undefined) {
    yield* chunksByBytes(rows);
    return;
  }
  yield* chunksByBytes(rows.filter((row) => row.outbox_id <= retriedThrough));
  yield* chunksByBytes(rows.filter((row) => row.outbox_id > retriedThrough));
}

function* chunksByBytes(rows: readonly PendingRow[]): Generator<{ rows: PendingRow[]; body: string }> {
  let current: PendingRow[] = [];
  let parts: string[] = [];
  let bytes = 2;
  for (const row of rows) {
    const part = JSON.stringify(activityPayload(row));
    const size = Buffer.byteLength(part) + 1;
    if (current.length > 0 && bytes + size > MAX_POST_BYTES) {
      yield { rows: current, body: `[${parts.join(',')}]` };
      current = [];
      parts = [];
      bytes = 2;
    }
    current.push(row);
    parts.push(part);
    bytes += size;
  }
  if (current.length > 0) yield { rows: current, body: `[${parts.join(',')}]` };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
