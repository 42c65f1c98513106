import type { Pool } from 'pg';
import * as z from 'zod';
import { Conflict, NotFound } from '../errors';
import type { Platform } from '../platform';
import { getConditionalGroup } from '../segments/conditional-groups';
import { getEmailMessage } from './messages';

/**
 * Seed 003's broadcast statuses that Satellite uses: SCHEDULED (queued), RUNNING (the worker
 * is sending), IDLE (finished), PAUSED (cancelled through the API, or stopped by a failure
 * the worker could not get past — then `error` says why).
 */
export type BroadcastStatus = 'SCHEDULED' | 'RUNNING' | 'IDLE' | 'PAUSED';

/** Failures kept on a broadcast; past this only `failed` grows. */
export const MAX_KEPT_FAILURES = 100;

export interface BroadcastFailure {
  readonly contactId: number;
  readonly error: { readonly code: string; readonly message: string; readonly line?: number; readonly column?: number };
}

export interface Broadcast {
  readonly id: number;
  readonly name: string;
  readonly messageId: number | null;
  readonly groupId: number | null;
  readonly mediaType: string;
  readonly status: BroadcastStatus;
  /** Members of the group when the worker evaluated it; null until then. */
  readonly recipients: number | null;
  readonly sent: number;
  readonly failed: number;
  /** The first failures, per contact (a template error with its line and column, no email). */
  readonly failures: readonly BroadcastFailure[];
  /** Why the worker stopped or is retrying; absent when nothing went wrong. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly createdDate: Date;
  readonly startedDate: Date | null;
  readonly updatedDate: Date;
}

/** What the broadcasts queue carries: the row holds everything else. */
export const broadcastJobSchema = z.object({ broadcastId: z.number().int().positive() }).strict();
export type BroadcastJob = z.output<typeof broadcastJobSchema>;

export class BroadcastNotFound extends NotFound {
  constructor() {
    super('broadcast', 'BROADCAST_NOT_FOUND');
  }
}

export class BroadcastFinished extends Conflict {
  constructor() {
    super('the broadcast has finished sending; there is nothing to cancel', 'BROADCAST_FINISHED');
  }
}

interface BroadcastRow {
  id: number;
  name: string;
  message_id: number | null;
  group_id: number | null;
  media_type: string;
  status: BroadcastStatus;
  recipients: number | null;
  sent: number;
  failed: number;
  failures: BroadcastFailure[];
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  started_at: Date | null;
  updated_at: Date;
}

// The platform keeps a list of groups per broadcast; one is sent to (seed 003's groupId is one int).
const COLUMNS = `id, name, message_id, group_ids[1] AS group_id, media_type, status, recipients, sent, failed, failures, error_code, error_message, created_at, started_at, updated_at`;

function toBroadcast(row: BroadcastRow): Broadcast {
  return {
    id: row.id,
    name: row.name,
    messageId: row.message_id,
    groupId: row.group_id,
    mediaType: row.media_type,
    status: row.status,
    recipients: row.recipients,
    sent: row.sent,
    failed: row.failed,
    failures: row.failures,
    ...(row.error_code !== null ? { error: { code: row.error_code, message: row.error_message ?? '' } } : {}),
    createdDate: row.created_at,
    startedDate: row.started_at,
    updatedDate: row.updated_at,
  };
}

/**
 * Queues a bulk send of a message to a group: checks both exist, stores the broadcast as
 * SCHEDULED and enqueues its job. The group is evaluated by the worker, not here, so the
 * request answers at once whatever the group's size.
 */
export async function startBroadcast(
  platform: Platform,
  accountId: number,
  input: { messageId: number; groupId: number; name?: string },
): Promise<{ id: number; status: BroadcastStatus }> {
  const message = await getEmailMessage(platform.db, accountId, input.messageId);
  const group = await getConditionalGroup(platform.db, accountId, input.groupId);
  const { rows } = await platform.db.query<{ id: number }>(
    `INSERT INTO broadcasts (account_id, message_id, name, media_type, group_ids, status)
     VALUES ($1, $2, $3, 'Email', ARRAY[$4::bigint], 'SCHEDULED') RETURNING id`,
    [accountId, message.id, input.name ?? `${message.name} → ${group.name}`, group.id],
  );
  const id = rows[0]?.id ?? 0;
  try {
    await platform.queue.send('broadcasts', [{ body: JSON.stringify({ broadcastId: id } satisfies BroadcastJob) }]);
  } catch (error) {
    // Nobody would ever send it: a SCHEDULED broadcast without a job must not stay behind.
    await platform.db.query('DELETE FROM broadcasts WHERE id = $1', [id]);
    throw error;
  }
  return { id, status: 'SCHEDULED' };
}

/**
 * Queues every broadcast still to send again, for a queue that lost what it held (the local
 * runtime's SQS server keeps messages in memory only). A broadcast resumes from its cursor.
 */
export async function requeueActiveBroadcasts(platform: Platform): Promise<number> {
  const { rows } = await platform.db.query<{ id: number }>("SELECT id FROM broadcasts WHERE status IN ('SCHEDULED', 'RUNNING') ORDER BY id");
  await platform.queue.send(
    'broadcasts',
    rows.map(({ id }) => ({ body: JSON.stringify({ broadcastId: id } satisfies BroadcastJob) })),
  );
  return rows.length;
}

export async function getBroadcast(db: Pool, accountId: number, id: number): Promise<Broadcast> {
  const { rows } = await db.query<BroadcastRow>(`SELECT ${COLUMNS} FROM broadcasts WHERE account_id = $1 AND id = $2`, [accountId, id]);
  const row = rows[0];
  if (!row) throw new BroadcastNotFound();
  return toBroadcast(row);
}

/** The account's broadcasts, newest first. */
export async function listBroadcasts(
  db: Pool,
  accountId: number,
  page: { startIndex: number; maxRows: number },
): Promise<{ broadcasts: Broadcast[]; total: number }> {
  const [list, counted] = await Promise.all([
    db.query<BroadcastRow>(`SELECT ${COLUMNS} FROM broadcasts WHERE account_id = $1 ORDER BY id DESC OFFSET $2 LIMIT $3`, [
      accountId,
      page.startIndex - 1,
      page.maxRows,
    ]),
    db.query<{ n: number }>('SELECT count(*)::int AS n FROM broadcasts WHERE account_id = $1', [accountId]),
  ]);
  return { broadcasts: list.rows.map(toBroadcast), total: counted.rows[0]?.n ?? 0 };
}

/**
 * Cancels a SCHEDULED or RUNNING broadcast: it becomes PAUSED and the worker stops before
 * its next page (a page already being sent finishes). Cancelling a PAUSED one again changes
 * nothing; a finished (IDLE) one cannot be cancelled.
 */
export async function cancelBroadcast(db: Pool, accountId: number, id: number): Promise<Broadcast> {
  const { rows } = await db.query<BroadcastRow>(
    `UPDATE broadcasts SET status = 'PAUSED', updated_at = now()
      WHERE account_id = $1 AND id = $2 AND status IN ('SCHEDULED', 'RUNNING')
      RETURNING ${COLUMNS}`,
    [accountId, id],
  );
  const cancelled = rows[0];
  if (cancelled) return toBroadcast(cancelled);
  const current = await getBroadcast(db, accountId, id);
  if (current.status === 'PAUSED') return current;
  throw new BroadcastFinished();
}
