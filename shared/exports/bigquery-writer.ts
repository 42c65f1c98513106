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

export async function exportToBigQuery(_platform: Platform, _connector: Connector, _options: BigQueryExportOptions): Promise<ExportProgress> {
  throw new AppError('unavailable', 'BIGQUERY_EXPORT_UNAVAILABLE', 'exports to BigQuery are not available yet');
}
