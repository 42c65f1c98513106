import type { Dataset } from './datasets';

/** The writer's steps in one chunk, in order; a crash after any of them must lose and duplicate nothing. */
export type WriterStep = 'staged' | 'upserted' | 'checkpointed' | 'committed';

/** What both destination writers are given for one pass of one dataset. */
export interface ExportPassOptions {
  /** The PostgreSQL schema or BigQuery dataset the tables live in. */
  readonly schema: string;
  readonly dataset: Dataset;
  readonly exportId: number;
  readonly accountId: number;
  /** Rows per chunk (a PostgreSQL transaction, a BigQuery load job). */
  readonly chunkRows: number;
  /** Asked after each chunk; false ends the call with the pass incomplete. */
  readonly hasTimeLeft: () => boolean;
  /** The run's heartbeat after each chunk, with the rows it wrote. */
  readonly onChunkCommitted?: (rows: number) => Promise<void>;
  /** Observes each step (tests stop the writer here, as a crash would). */
  readonly onStep?: (step: WriterStep) => Promise<void>;
}

export interface ExportProgress {
  readonly rowsWritten: number;
  /** True when every change up to the pass's bound is in the destination. */
  readonly complete: boolean;
}
