import type { Connector } from '../connectors/connections';
import { AppError } from '../errors';
import type { Platform } from '../platform';
import type { Dataset } from './datasets';
import type { ExportProgress } from './postgres-writer';

export interface BigQueryExportOptions {
  readonly schema: string;
  readonly dataset: Dataset;
  readonly exportId: number;
  readonly accountId: number;
  readonly runId: number;
}

/**
 * Not built yet. The plan: stream the pass's rows as NDJSON into a load job (upload
 * endpoint, WRITE_TRUNCATE) on a staging table, then one MERGE per table and run
 * (WHEN MATCHED AND S.satelliteVersion > T.satelliteVersion), both with job ids derived
 * from the export, dataset and pass bound so a retried run finds its jobs instead of
 * loading twice; the cursor moves in the platform database after the MERGE succeeds.
 */
export async function exportToBigQuery(_platform: Platform, _connector: Connector, _options: BigQueryExportOptions): Promise<ExportProgress> {
  throw new AppError('unavailable', 'BIGQUERY_EXPORT_NOT_AVAILABLE', 'exports to BigQuery are not available yet');
}
