import * as z from 'zod';
import { logger } from '../logger';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';
import type { DatasetName } from './datasets';
import { getExport } from './exports';

export type RunStatus = 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed';
export type RunTrigger = 'schedule' | 'manual';

export interface ExportRun {
  readonly id: number;
  readonly exportId: number;
  readonly dataset: DatasetName;
  readonly trigger: RunTrigger;
  readonly status: RunStatus;
  readonly rowsWritten: number;
  readonly attempts: number;
  readonly queuedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface RunRow {
  id: number;
  export_id: number;
  account_id: number;
  dataset: DatasetName;
  trigger: RunTrigger;
  status: RunStatus;
  rows_written: number;
  attempts: number;
  error_code: string | null;
  error_message: string | null;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export function runFromRow(row: RunRow): ExportRun {
  return {
    id: row.id,
    exportId: row.export_id,
    dataset: row.dataset,
    trigger: row.trigger,
    status: row.status,
    rowsWritten: Number(row.rows_written),
    attempts: row.attempts,
    queuedAt: row.queued_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
  };
}

/** One message on the exports queue: work on this run until it is done or out of time. */
export const exportJobSchema = z.object({ runId: z.number().int().positive() }).strict();
export type ExportJob = z.infer<typeof exportJobSchema>;

/**
 * An active run not touched for this long belongs to a worker that is gone (its message
 * went to the dead-letter queue); a new run may replace it. Workers touch their run at
 * every chunk and retries wait at most 15 minutes, so a live run is never this quiet.
 */
const ABANDONED_AFTER = '1 hour';

/**
 * Starts one run per dataset of the export and enqueues a job for each. A dataset whose
 * previous run is still active gets no second one: runs of one export and dataset never
 * overlap. Returns the runs now active (new or already under way).
 */
export async function startExportRuns(platform: Platform, accountId: number, exportId: number, trigger: RunTrigger): Promise<ExportRun[]> {
  const { runs, created } = await withTransaction(platform.db, async (client) => {
    const dataExport = await getExport(client, accountId, exportId);
    if (trigger === 'schedule' && dataExport.paused) return { runs: [], created: [] };
    await client.query(
      `UPDATE export_runs SET status = 'failed', error_code = 'RUN_ABANDONED', finished_at = now(), updated_at = now(),
              error_message = 'the worker stopped reporting; a new run replaced this one'
        WHERE export_id = $1 AND status IN ('queued', 'running', 'retrying') AND updated_at < now() - $2::interval`,
      [exportId, ABANDONED_AFTER],
    );
    const inserted = await client.query<RunRow>(
      `INSERT INTO export_runs (export_id, account_id, dataset, trigger)
       SELECT $1, $2, dataset, $4 FROM unnest($3::text[]) AS dataset
       ON CONFLICT (export_id, dataset) WHERE status IN ('queued', 'running', 'retrying') DO NOTHING
       RETURNING *`,
      [exportId, accountId, dataExport.datasets, trigger],
    );
    const active = await client.query<RunRow>(
      `SELECT * FROM export_runs WHERE export_id = $1 AND status IN ('queued', 'running', 'retrying') ORDER BY id`,
      [exportId],
    );
    return { runs: active.rows.map(runFromRow), created: inserted.rows.map((row) => row.id) };
  });
  // After commit, so a worker always finds its run. A lost send leaves the run queued until
  // it counts as abandoned and the next schedule replaces it.
  if (created.length > 0) {
    await platform.queue.send(
      'exports',
      created.map((runId) => ({ body: JSON.stringify({ runId } satisfies ExportJob) })),
    );
    logger.info('export runs queued', { exportId, trigger, runs: created });
  }
  return runs;
}

/**
 * Queues every active run again, for a queue that lost what it held (the local runtime's SQS
 * server keeps messages in memory only). A run resumes from its cursor; one waiting out a
 * retry delay is tried at once. A run abandoned already is left to the next schedule, which
 * replaces it: queued as well, it could race its replacement for the dataset's lock.
 */
export async function requeueActiveRuns(platform: Platform): Promise<number> {
  const { rows } = await platform.db.query<{ id: number }>(
    "SELECT id FROM export_runs WHERE status IN ('queued', 'running', 'retrying') AND updated_at >= now() - $1::interval ORDER BY id",
    [ABANDONED_AFTER],
  );
  await platform.queue.send(
    'exports',
    rows.map(({ id }) => ({ body: JSON.stringify({ runId: id } satisfies ExportJob) })),
  );
  return rows.length;
}

export async function listRuns(platform: Platform, accountId: number, exportId: number, limit: number): Promise<ExportRun[]> {
  await getExport(platform.db, accountId, exportId);
  const { rows } = await platform.db.query<RunRow>('SELECT * FROM export_runs WHERE export_id = $1 AND account_id = $2 ORDER BY id DESC LIMIT $3', [
    exportId,
    accountId,
    limit,
  ]);
  return rows.map(runFromRow);
}
