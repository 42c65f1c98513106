import type { PoolClient } from 'pg';
import { getConnector, type Connector } from '../connectors/connector';
import { AppError, NotFound, ValidationFailed } from '../errors';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';
import { dropUnfinishedStaging, type UnfinishedPass } from './bigquery-writer';
import type { DatasetName } from './datasets';

export const exportIntervals = ['every15Minutes', 'hourly', 'every6Hours', 'daily'] as const;
export type ExportInterval = (typeof exportIntervals)[number];

/** EventBridge Scheduler expressions; rates are aligned to the epoch by the local scheduler too. */
const scheduleExpressions: Readonly<Record<ExportInterval, string>> = {
  every15Minutes: 'rate(15 minutes)',
  hourly: 'rate(1 hour)',
  every6Hours: 'rate(6 hours)',
  daily: 'rate(1 day)',
};

/** The schedule target (a key of the stack's schedule targets) that dispatches exports. */
export const EXPORT_SCHEDULE_TARGET = 'exports';

export interface DataExport {
  readonly id: number;
  readonly accountId: number;
  readonly connectorId: number;
  readonly destination: 'postgres' | 'bigquery';
  readonly datasets: readonly DatasetName[];
  readonly interval: ExportInterval;
  /** PostgreSQL schema or BigQuery dataset. */
  readonly schema: string;
  readonly paused: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ExportSettings {
  readonly connectorId: number;
  readonly datasets: readonly DatasetName[];
  readonly interval?: ExportInterval;
  readonly schema?: string;
  readonly paused?: boolean;
}

export type ExportChanges = Partial<Omit<ExportSettings, 'connectorId'>>;

interface ExportRow {
  id: number;
  account_id: number;
  connector_id: number;
  destination: 'postgres' | 'bigquery';
  datasets: DatasetName[];
  interval: ExportInterval;
  target_schema: string;
  paused: boolean;
  created_at: Date;
  updated_at: Date;
}

function fromRow(row: ExportRow): DataExport {
  return {
    id: row.id,
    accountId: row.account_id,
    connectorId: row.connector_id,
    destination: row.destination,
    datasets: row.datasets,
    interval: row.interval,
    schema: row.target_schema,
    paused: row.paused,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export class ExportNotFound extends NotFound {
  constructor() {
    super('export', 'EXPORT_NOT_FOUND');
  }
}

export function scheduleName(exportId: number): string {
  return `export-${exportId}`;
}

export async function createExport(platform: Platform, accountId: number, settings: ExportSettings): Promise<DataExport> {
  const connector = await getConnector(platform.db, accountId, settings.connectorId);
  const interval = settings.interval ?? 'daily';
  checkInterval(connector.kind, interval);
  const schema = checkTarget(connector.kind, settings.schema ?? defaultSchema(connector));
  return withTransaction(platform.db, async (client) => {
    const { rows } = await client.query<ExportRow>(
      `INSERT INTO exports (account_id, connector_id, destination, datasets, interval, target_schema, paused)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [accountId, connector.id, connector.kind, uniqueDatasets(settings.datasets), interval, schema, settings.paused ?? false],
    );
    const created = fromRow(rows[0]!);
    // In the transaction: if the schedule cannot be made, the export is not saved either.
    await upsertSchedule(platform, created);
    return created;
  });
}

export async function listExports(platform: Platform, accountId: number): Promise<DataExport[]> {
  const { rows } = await platform.db.query<ExportRow>('SELECT * FROM exports WHERE account_id = $1 ORDER BY id', [accountId]);
  return rows.map(fromRow);
}

export async function getExport(db: Platform['db'] | PoolClient, accountId: number, exportId: number): Promise<DataExport> {
  const { rows } = await db.query<ExportRow>('SELECT * FROM exports WHERE account_id = $1 AND id = $2', [accountId, exportId]);
  if (!rows[0]) throw new ExportNotFound();
  return fromRow(rows[0]);
}

export async function updateExport(platform: Platform, accountId: number, exportId: number, changes: ExportChanges): Promise<DataExport> {
  return withTransaction(platform.db, async (client) => {
    const { rows: locked } = await client.query<ExportRow>('SELECT * FROM exports WHERE account_id = $1 AND id = $2 FOR UPDATE', [
      accountId,
      exportId,
    ]);
    if (!locked[0]) throw new ExportNotFound();
    const current = fromRow(locked[0]);
    const interval = changes.interval ?? current.interval;
    checkInterval(current.destination, interval);
    const { rows } = await client.query<ExportRow>(
      `UPDATE exports SET datasets = $3, interval = $4, target_schema = $5, paused = $6, updated_at = now()
        WHERE account_id = $1 AND id = $2 RETURNING *`,
      [
        accountId,
        exportId,
        changes.datasets ? uniqueDatasets(changes.datasets) : current.datasets,
        interval,
        changes.schema === undefined ? current.schema : checkTarget(current.destination, changes.schema),
        changes.paused ?? current.paused,
      ],
    );
    const updated = fromRow(rows[0]!);
    await upsertSchedule(platform, updated);
    return updated;
  });
}

export async function deleteExport(platform: Platform, accountId: number, exportId: number): Promise<void> {
  const unfinished = await withTransaction(platform.db, async (client) => {
    const { rows } = await client.query<UnfinishedPass & { connector_id: number }>(
      `SELECT c.dataset, c.destination, e.connector_id FROM export_bigquery_cursors c JOIN exports e ON e.id = c.export_id
        WHERE e.account_id = $1 AND e.id = $2 AND (c.staged_xid IS NOT NULL OR c.planned_xid IS NOT NULL)`,
      [accountId, exportId],
    );
    const { rowCount } = await client.query('DELETE FROM exports WHERE account_id = $1 AND id = $2', [accountId, exportId]);
    if (rowCount === 0) throw new ExportNotFound();
    await platform.scheduler.delete(scheduleName(exportId));
    return rows;
  });
  if (unfinished.length === 0) return;
  const connector = await getConnector(platform.db, accountId, unfinished[0]!.connector_id).catch(() => undefined);
  if (connector?.bigquery) await dropUnfinishedStaging(platform, connector, exportId, unfinished);
}

async function upsertSchedule(platform: Platform, dataExport: DataExport): Promise<void> {
  await platform.scheduler.upsert({
    name: scheduleName(dataExport.id),
    expression: scheduleExpressions[dataExport.interval],
    target: EXPORT_SCHEDULE_TARGET,
    detail: { exportId: dataExport.id, accountId: dataExport.accountId },
    enabled: !dataExport.paused,
  });
}

function checkInterval(destination: 'postgres' | 'bigquery', interval: ExportInterval): void {
  if (destination === 'bigquery' && interval !== 'daily') {
    throw new ValidationFailed(
      'BigQuery exports run daily',
      [{ path: 'body.interval', message: 'must be daily for a BigQuery connector' }],
      'INTERVAL_NOT_SUPPORTED',
    );
  }
}

/** BigQuery dataset ids are letters, digits and underscores; checked here rather than failing every run. */
function checkTarget(destination: 'postgres' | 'bigquery', schema: string): string {
  if (destination === 'bigquery' && !/^[A-Za-z0-9_]+$/.test(schema)) {
    throw new ValidationFailed(
      'a BigQuery dataset id has only letters, digits and underscores',
      [{ path: 'body.dataset', message: 'not a BigQuery dataset id' }],
      'DATASET_NAME_INVALID',
    );
  }
  return schema;
}

/** Seed 000: an export writes to the connector's schema ("public" unless it names another). */
function defaultSchema(connector: Connector): string {
  if (connector.postgres) return connector.postgres.schema;
  throw new ValidationFailed(
    'a BigQuery export needs the dataset to write to',
    [{ path: 'body.dataset', message: 'required for a BigQuery connector' }],
    'DATASET_REQUIRED',
  );
}

function uniqueDatasets(names: readonly DatasetName[]): DatasetName[] {
  if (names.length === 0) throw new AppError('invalid', 'DATASETS_REQUIRED', 'choose at least one dataset');
  return [...new Set(names)];
}
