import { DatabaseError } from 'pg';
import { getConnector } from '../connectors/connector';
import { withPostgresConnection } from '../connectors/postgres-pools';
import { AppError } from '../errors';
import { logger } from '../logger';
import type { JobBudget } from '../jobs/consume-jobs';
import { withJobLease } from '../jobs/job-lease';
import type { Platform } from '../platform';
import { queues } from '../topology';
import { exportToBigQuery } from './bigquery-writer';
import { datasets } from './datasets';
import type { ExportProgress, WriterStep } from './export-pass';
import { exportToPostgres } from './postgres-writer';
import type { ExportJob, RunRow } from './runs';

export type JobOutcome = 'succeeded' | 'continued' | 'retrying' | 'failed' | 'skipped';

/** What a locked invocation ended with, and when the run's next message is due (continued, retrying). */
interface LockedOutcome {
  readonly outcome: JobOutcome;
  readonly nextInSeconds?: number;
}

export interface JobObservers {
  readonly onStep?: (step: WriterStep) => Promise<void>;
}

/** Statements on the customer's database may take this long: a chunk is at most `exportChunkRows` rows. */
const DESTINATION_STATEMENT_TIMEOUT_MS = 10 * 60_000;

interface JobRow extends RunRow {
  connector_id: number;
  target_schema: string;
}

/**
 * One invocation of the export worker for one run: exports chunks until the dataset is
 * caught up or the time budget is spent (then re-enqueues its continuation). A failure is
 * recorded on the run and retried with backoff; the cursor stays where the last committed
 * chunk put it.
 */
export async function exportDatasetJob(platform: Platform, job: ExportJob, budget: JobBudget, observers: JobObservers = {}): Promise<JobOutcome> {
  const { rows } = await platform.db.query<JobRow>(
    `SELECT r.*, e.connector_id, e.target_schema FROM export_runs r JOIN exports e ON e.id = r.export_id WHERE r.id = $1`,
    [job.runId],
  );
  const run = rows[0];
  if (!run || run.status === 'succeeded' || run.status === 'failed') return 'skipped';

  // A lease row, not a session lock: a duplicate delivery of this run's message finds it
  // taken and leaves the work to the holder, and no proxy connection stays pinned meanwhile.
  const leased = await withJobLease(platform.db, `export:${run.export_id}:${run.dataset}`, queues.exports.workerTimeoutSeconds, () =>
    runLocked(platform, run, budget, observers),
  );
  if (leased.taken) return 'skipped';
  const result = leased.result;
  // Only once the lock is free: a message sent while it was held could reach another
  // invocation at once, which would take it for a duplicate and drop it, and the run would
  // wait for the next schedule.
  if (result.nextInSeconds !== undefined) {
    await platform.queue.send('exports', [{ body: JSON.stringify({ runId: run.id } satisfies ExportJob), delaySeconds: result.nextInSeconds }]);
  }
  return result.outcome;
}

async function runLocked(platform: Platform, run: JobRow, budget: JobBudget, observers: JobObservers): Promise<LockedOutcome> {
  const { config } = platform;
  await platform.db.query(`UPDATE export_runs SET status = 'running', started_at = coalesce(started_at, now()), updated_at = now() WHERE id = $1`, [
    run.id,
  ]);
  // Also the run's heartbeat: a run that stops touching its row counts as abandoned.
  const onChunkCommitted = async (rowsWritten: number) => {
    platform.metrics.add('ExportRows', rowsWritten, run.dataset);
    await platform.db
      .query('UPDATE export_runs SET rows_written = rows_written + $2, updated_at = now() WHERE id = $1', [run.id, rowsWritten])
      .catch((error: unknown) => logger.warn('could not record export progress', { runId: run.id, error: String(error) }));
  };
  const hasTimeLeft = () => budget.remainingMs() > config.exportTimeReserveMs;
  const dataset = datasets[run.dataset];

  let progress: ExportProgress;
  try {
    const connector = await getConnector(platform.db, run.account_id, run.connector_id);
    const writer = {
      source: platform.db,
      schema: run.target_schema,
      dataset,
      exportId: run.export_id,
      accountId: run.account_id,
      chunkRows: config.exportChunkRows,
      hasTimeLeft,
      onChunkCommitted,
      onStep: observers.onStep,
    };
    progress =
      connector.kind === 'postgres'
        ? await withPostgresConnection(platform, connector, (destination) => exportToPostgres({ ...writer, destination }), {
            readOnly: false,
            statementTimeoutMs: DESTINATION_STATEMENT_TIMEOUT_MS,
          })
        : await exportToBigQuery(platform, connector, writer);
  } catch (error) {
    return recordFailure(platform, run, error);
  }

  if (progress.complete) {
    await platform.db.query(
      `UPDATE export_runs SET status = 'succeeded', finished_at = now(), updated_at = now(), error_code = NULL, error_message = NULL WHERE id = $1`,
      [run.id],
    );
    platform.metrics.add('ExportRuns', 1, run.dataset);
    platform.metrics.add('ExportRunSeconds', (platform.clock.now().getTime() - run.queued_at.getTime()) / 1000, run.dataset);
    return { outcome: 'succeeded' };
  }
  return { outcome: 'continued', nextInSeconds: 0 };
}

async function recordFailure(platform: Platform, run: JobRow, error: unknown): Promise<LockedOutcome> {
  const { code, message } = describeFailure(error);
  const attempts = run.attempts + 1;
  const final = attempts >= platform.config.exportMaxAttempts;
  logger.warn('export run failed', { runId: run.id, exportId: run.export_id, dataset: run.dataset, code, attempts, final });
  await platform.db.query(
    `UPDATE export_runs SET status = $2, attempts = $3, error_code = $4, error_message = $5, updated_at = now(),
            finished_at = CASE WHEN $2 = 'failed' THEN now() END
      WHERE id = $1`,
    [run.id, final ? 'failed' : 'retrying', attempts, code, message],
  );
  if (final) {
    platform.metrics.add('ExportRunFailures', 1, run.dataset);
    return { outcome: 'failed' };
  }
  return { outcome: 'retrying', nextInSeconds: retryDelaySeconds(platform.config.exportRetryBaseSeconds, attempts) };
}

/** 1×, 2×, 4× … the base, capped at SQS's longest delay (15 minutes). */
export function retryDelaySeconds(baseSeconds: number, attempts: number): number {
  return Math.min(900, baseSeconds * 2 ** (attempts - 1));
}

/** What the runs endpoint shows: connector codes as they are, never driver internals or credentials. */
function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  if (error instanceof DatabaseError) {
    return { code: 'DESTINATION_REJECTED', message: `the database refused the export (SQLSTATE ${error.code ?? 'unknown'}: ${error.message})` };
  }
  const text = error instanceof Error ? error.message : String(error);
  if (/Connection terminated|ECONNRESET|not queryable/i.test(text)) {
    return { code: 'CONNECTION_FAILED', message: 'the connection to the destination was lost during the export' };
  }
  logger.error('export failed unexpectedly', { error: text });
  return { code: 'EXPORT_FAILED', message: 'the export failed; it will be retried' };
}
