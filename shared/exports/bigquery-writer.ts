import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { BigQuery, Table, TableField, TableMetadata } from '@google-cloud/bigquery';
import { to as copyTo } from 'pg-copy-streams';
import { bigQueryFailure, bigQueryFor } from '../connectors/bigquery-client';
import type { Connector } from '../connectors/connector';
import { ConnectorFailed } from '../connectors/errors';
import { AppError } from '../errors';
import { logger } from '../logger';
import type { Platform } from '../platform';
import { changedRowsSql, nextChunkBoundary, passUpperBound, type ChangePosition } from './change-feed';
import { datasets, destinationColumns, VERSION_COLUMN, type BigQueryType, type Dataset, type DatasetColumn, type DatasetName } from './datasets';
import { DestinationTableIncompatible } from './errors';
import type { ExportPassOptions, ExportProgress } from './export-pass';

/** Jobs found failed under one id are retried under the next (`…_2`, `…_3`); past this many the run gives up. */
const MAX_JOB_IDS = 20;

/**
 * Exports a dataset's changed rows into the customer's BigQuery table. A pass (the rows
 * changed since the last merged bound) is staged chunk by chunk with NDJSON load jobs into
 * `satellite_staging_<export>_<dataset>` (the first WRITE_TRUNCATE, the rest WRITE_APPEND),
 * then applied with one MERGE that overwrites a row only with a newer version. Each job id
 * derives from the export, dataset and rows it covers, and each chunk's bounds are written
 * to the platform database before its job starts, so a retry finds the job of its previous
 * attempt instead of loading twice. The cursor moves in the platform database only after the
 * MERGE has succeeded; streaming inserts are never used. Its steps: `staged` after a load
 * job is done and before the platform records it, `upserted` after the MERGE and before the
 * cursor moves, `committed` after the cursor moved.
 */
export async function exportToBigQuery(platform: Platform, connector: Connector, options: ExportPassOptions): Promise<ExportProgress> {
  const projectId = connector.bigquery?.projectId ?? '';
  try {
    return await exportPass(platform, connector, options);
  } catch (error) {
    throw bigQueryFailure(error, projectId);
  }
}

interface PassCursor {
  readonly low: string;
  readonly high: string | undefined;
  /** Names the pass's BigQuery jobs; none for a pass begun before passes had ids. */
  readonly passId: string | undefined;
  readonly staged: ChangePosition | undefined;
  readonly planned: ChangePosition | undefined;
}

interface Destination {
  readonly bigQuery: BigQuery;
  readonly projectId: string;
  readonly location: string | undefined;
  readonly target: Table;
  readonly staging: Table;
}

async function exportPass(platform: Platform, connector: Connector, options: ExportPassOptions): Promise<ExportProgress> {
  const { dataset } = options;
  const bigQuery = await bigQueryFor(platform, connector);
  const projectId = connector.bigquery!.projectId;
  checkName(projectId, 'project');
  checkName(options.schema, 'dataset');
  const fields = tableFields(dataset);
  const targetMetadata = await ensureTable(bigQuery, options.schema, dataset, fields, connector.bigquery?.location);
  const location = connector.bigquery?.location ?? targetMetadata.location;
  const bigQueryDataset = bigQuery.dataset(options.schema, location ? { location } : {});
  const destination: Destination = {
    bigQuery,
    projectId,
    location,
    target: bigQueryDataset.table(dataset.name, location ? { location } : {}),
    staging: bigQueryDataset.table(stagingTableName(options), location ? { location } : {}),
  };
  const cursorKey = { exportId: options.exportId, dataset: dataset.name, destination: `${projectId}.${options.schema}` };
  await abandonPassesElsewhere(platform, connector, cursorKey);

  let cursor = await readCursor(platform, cursorKey);
  if (cursor.high === undefined) {
    const high = await passUpperBound(platform.db);
    if (!(await hasChanges(platform, dataset, options.accountId, { xid: cursor.low, id: -1 }, high))) {
      await moveCursor(platform, cursorKey, high);
      return { rowsWritten: 0, complete: true };
    }
    cursor = { ...cursor, high, passId: randomBytes(6).toString('hex') };
    await startPass(platform, cursorKey, high, cursor.passId!);
  }
  const high = cursor.high!;
  // Job ids are unique per project and name a pass's chunks by their change positions, so they
  // name the pass too: a pass into another dataset, or one started again after an abandoned
  // one, would otherwise find the earlier pass's jobs for the same chunks done and load
  // nothing for them. (A pass begun before passes had ids keeps the ids it began with.)
  const jobBase = `satellite_${options.accountId}_${options.exportId}_${dataset.name}${cursor.passId ? `_${cursor.passId}` : ''}`;
  // A pass staged partly by an older version lacks the columns added since: appending to it,
  // and merging from it, need them (their staged values are simply empty).
  if (cursor.staged ?? cursor.planned) {
    const stagingMetadata = await tableMetadata(destination.staging);
    if (stagingMetadata) await addMissingColumns(destination.staging, stagingMetadata, fields);
  }

  // Stage the pass's rows, a chunk per load job, until none are left or the time is spent.
  let staged = cursor.staged;
  let planned = cursor.planned;
  for (;;) {
    const after = staged ?? { xid: cursor.low, id: -1 };
    const upTo =
      planned ??
      (await nextChunkBoundary(platform.db, dataset, options.accountId, after, high, options.chunkRows)) ??
      (await lastChange(platform, dataset, options.accountId, after, high));
    if (!upTo) break;
    if (!planned) await planChunk(platform, cursorKey, upTo);
    const jobId = `${jobBase}_load_${after.xid}_${after.id}_${upTo.xid}_${upTo.id}`;
    await completeJob(destination, jobId, (id) =>
      loadChunk(platform, destination.staging, id, fields, changedRowsSql(dataset, options.accountId, after, high, upTo), staged === undefined),
    );
    await options.onStep?.('staged');
    await recordStaged(platform, cursorKey, upTo);
    staged = upTo;
    planned = undefined;
    await options.onChunkCommitted?.(0);
    if (!options.hasTimeLeft()) return { rowsWritten: 0, complete: false };
  }

  let rowsWritten = 0;
  if (staged) {
    const merge = await completeJob(destination, `${jobBase}_merge_${cursor.low}_${high}`, (id) =>
      destination.bigQuery
        .createQueryJob({ query: mergeSql(destination, dataset), jobId: id, ...(location ? { location } : {}) })
        .then(() => undefined),
    );
    rowsWritten = Number(merge.statistics?.query?.numDmlAffectedRows ?? 0);
    await options.onStep?.('upserted');
  }
  await moveCursor(platform, cursorKey, high);
  await options.onStep?.('committed');
  await options.onChunkCommitted?.(rowsWritten);
  // The staged rows are merged; the table would only clutter the customer's dataset until the next pass.
  if (staged) await destination.staging.delete().catch(() => undefined);
  return { rowsWritten, complete: true };
}

export function stagingTableName(options: Pick<ExportPassOptions, 'exportId' | 'dataset'>): string {
  return `satellite_staging_${options.exportId}_${options.dataset.name}`;
}

/** A pass an export left unfinished: its dataset and where it was staged (`project.dataset`). */
export interface UnfinishedPass {
  readonly dataset: DatasetName;
  readonly destination: string;
}

/**
 * A pass this dataset left unfinished in another destination (the export was pointed at
 * another BigQuery dataset meanwhile) will never be resumed: its staging table is dropped
 * and its cursor forgets the pass. What was merged there stays recorded, should the export
 * be pointed back. Only this export's runs of this dataset write those cursors, one at a time.
 */
async function abandonPassesElsewhere(platform: Platform, connector: Connector, key: CursorKey): Promise<void> {
  const { rows } = await platform.db.query<UnfinishedPass>(
    `SELECT dataset, destination FROM export_bigquery_cursors
      WHERE export_id = $1 AND dataset = $2 AND destination <> $3 AND high_xid IS NOT NULL`,
    [key.exportId, key.dataset, key.destination],
  );
  if (rows.length === 0) return;
  await dropUnfinishedStaging(platform, connector, key.exportId, rows);
  await platform.db.query(
    `UPDATE export_bigquery_cursors SET high_xid = NULL, pass_id = NULL, staged_xid = NULL, staged_id = NULL, planned_xid = NULL, planned_id = NULL, updated_at = now()
      WHERE export_id = $1 AND dataset = $2 AND destination <> $3 AND high_xid IS NOT NULL`,
    [key.exportId, key.dataset, key.destination],
  );
}

/**
 * Drops the staging tables of an export's unfinished passes, once nothing would ever merge
 * or delete them (the export deleted, or pointed elsewhere): they cost the customer storage.
 * Best effort: a revoked key or an unreachable project leaves them.
 */
export async function dropUnfinishedStaging(
  platform: Platform,
  connector: Connector,
  exportId: number,
  passes: readonly UnfinishedPass[],
): Promise<void> {
  if (passes.length === 0) return;
  try {
    const bigQuery = await bigQueryFor(platform, connector);
    await Promise.all(
      passes.map(async ({ dataset, destination }) => {
        const separator = destination.indexOf('.');
        const staging = bigQuery
          .dataset(destination.slice(separator + 1), { projectId: destination.slice(0, separator) })
          .table(stagingTableName({ exportId, dataset: datasets[dataset] }));
        await staging.delete().catch((error: unknown) => {
          if (statusOf(error) !== 404) throw error;
        });
      }),
    );
  } catch (error) {
    logger.warn('could not drop the staging tables of unfinished export passes', { exportId, error: messageOf(error) });
  }
}

/** Every documented column with its BigQuery type, and Satellite's version column. */
export function tableFields(dataset: Dataset): TableField[] {
  return destinationColumns(dataset).map((column) => ({ name: column.name, type: column.bigQueryType, mode: 'NULLABLE' }));
}

/**
 * Creates the table with every column if missing. An existing one (made by an earlier version,
 * or by another tool such as eSputnik's own export) is checked first: a column whose type or
 * mode would make the MERGE fail is reported now, naming the table and the column, rather than
 * as a failed job after the pass is staged. Columns a later version documents are added;
 * none is ever dropped or retyped.
 */
async function ensureTable(
  bigQuery: BigQuery,
  datasetId: string,
  dataset: Dataset,
  fields: TableField[],
  location: string | undefined,
): Promise<TableMetadata> {
  const tableId = dataset.name;
  const bigQueryDataset = bigQuery.dataset(datasetId, location ? { location } : {});
  const table = bigQueryDataset.table(tableId, location ? { location } : {});
  let metadata = await tableMetadata(table);
  if (!metadata) {
    try {
      [, metadata] = await bigQueryDataset.createTable(tableId, { schema: { fields }, description: 'Exported by Satellite' });
    } catch (error) {
      // Another run created it in between.
      if (statusOf(error) !== 409) throw error;
      metadata = await tableMetadata(table);
    }
  }
  const problems = fieldProblems(metadata!.schema?.fields ?? [], dataset);
  if (problems.length > 0) throw new DestinationTableIncompatible(`${datasetId}.${tableId}`, problems);
  return addMissingColumns(table, metadata!, fields);
}

/** BigQuery types that take a value of each of ours as the MERGE assigns it (implicit coercions only). */
const acceptedBigQueryTypes: Readonly<Record<BigQueryType, readonly string[]>> = {
  STRING: ['STRING'],
  INT64: ['INT64', 'INTEGER', 'NUMERIC', 'BIGNUMERIC', 'FLOAT64', 'FLOAT'],
  FLOAT64: ['FLOAT64', 'FLOAT'],
  TIMESTAMP: ['TIMESTAMP'],
};

/** What in an existing table's schema would make writing the dataset fail. */
function fieldProblems(existing: readonly TableField[], dataset: Dataset): string[] {
  const columns = destinationColumns(dataset);
  const ours = new Map(columns.map((column) => [column.name.toLowerCase(), column]));
  const problems: string[] = [];
  for (const field of existing) {
    const column = ours.get(field.name?.toLowerCase() ?? '');
    const mode = field.mode ?? 'NULLABLE';
    if (!column) {
      if (mode === 'REQUIRED' && !field.defaultValueExpression) problems.push(`column ${field.name} is REQUIRED; Satellite does not write it`);
      continue;
    }
    if (mode === 'REPEATED' || !acceptedBigQueryTypes[column.bigQueryType].includes(field.type ?? '')) {
      problems.push(`column ${field.name} is ${mode === 'REPEATED' ? 'REPEATED ' : ''}${field.type}; Satellite writes ${column.bigQueryType}`);
    } else if (mode === 'REQUIRED' && !dataset.key.includes(column.name) && column.name !== VERSION_COLUMN) {
      problems.push(`column ${field.name} is REQUIRED; Satellite leaves it empty where the platform has no value`);
    }
  }
  return problems;
}

/** Adds the columns a later version documents, never dropping or retyping one. */
async function addMissingColumns(table: Table, metadata: TableMetadata, fields: TableField[]): Promise<TableMetadata> {
  const existing = metadata.schema?.fields ?? [];
  const known = new Set(existing.map((field) => field.name?.toLowerCase()));
  const missing = fields.filter((field) => !known.has(field.name!.toLowerCase()));
  if (missing.length === 0) return metadata;
  const updated: unknown = (await table.setMetadata({ schema: { fields: [...existing, ...missing] } }))[0];
  return updated as TableMetadata;
}

async function tableMetadata(table: Table): Promise<TableMetadata | undefined> {
  try {
    const metadata: unknown = (await table.getMetadata())[0];
    return metadata as TableMetadata;
  } catch (error) {
    // A missing dataset is the user's to fix (BIGQUERY_DATASET_NOT_FOUND); a missing table is ours to create.
    if (statusOf(error) === 404 && /table/i.test(messageOf(error)) && !/dataset/i.test(messageOf(error))) return undefined;
    throw error;
  }
}

/** Streams the chunk's rows from the platform database as NDJSON into a load job (the upload endpoint). */
async function loadChunk(platform: Platform, staging: Table, jobId: string, fields: TableField[], selectSql: string, first: boolean): Promise<void> {
  const reader = await platform.db.connect();
  let broken = false;
  try {
    const upload = staging.createWriteStream({
      sourceFormat: 'NEWLINE_DELIMITED_JSON',
      schema: { fields },
      createDisposition: 'CREATE_IF_NEEDED',
      writeDisposition: first ? 'WRITE_TRUNCATE' : 'WRITE_APPEND',
      jobId,
    });
    await pipeline(reader.query(copyTo(ndjsonCopySql(selectSql, fields))), upload);
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    reader.release(broken);
  }
}

/**
 * COPY of one JSON object a line. CSV with a quote and delimiter that JSON text never holds
 * (control characters are escaped inside JSON strings) writes each object untouched; the
 * text format would double every backslash.
 */
function ndjsonCopySql(selectSql: string, fields: readonly TableField[]): string {
  const names = fields.map((field) => quotePg(field.name!));
  const values = fields.map((field, index) => {
    const value = `r.${names[index]}`;
    switch (field.type) {
      case 'TIMESTAMP':
        return `to_char(${value}, 'YYYY-MM-DD HH24:MI:SS') AS ${names[index]}`;
      case 'STRING':
        return `${value}::text AS ${names[index]}`;
      case 'FLOAT64':
        return `${value}::float8 AS ${names[index]}`;
      default:
        return `${value}::bigint AS ${names[index]}`;
    }
  });
  const rows = `SELECT ${values.join(', ')} FROM (${selectSql}) AS r(${names.join(', ')})`;
  return `COPY (SELECT row_to_json(j)::text FROM (${rows}) j) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`;
}

function quotePg(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** One statement for the pass: a staged row replaces the table's row only when its version is newer. */
export function mergeSql(destination: Pick<Destination, 'projectId' | 'target' | 'staging'>, dataset: Dataset): string {
  const table = (name: string) => `${quoteBigQuery(destination.projectId)}.${quoteBigQuery(destination.target.dataset.id!)}.${quoteBigQuery(name)}`;
  const columns = destinationColumns(dataset).map((column: DatasetColumn) => quoteBigQuery(column.name));
  const keys = dataset.key.map(quoteBigQuery);
  const version = quoteBigQuery(VERSION_COLUMN);
  return [
    `MERGE ${table(destination.target.id!)} AS T`,
    `USING ${table(destination.staging.id!)} AS S`,
    `ON ${keys.map((key) => `T.${key} = S.${key}`).join(' AND ')}`,
    `WHEN MATCHED AND (T.${version} IS NULL OR S.${version} > T.${version}) THEN`,
    `  UPDATE SET ${columns
      .filter((column) => !keys.includes(column))
      .map((column) => `${column} = S.${column}`)
      .join(', ')}`,
    `WHEN NOT MATCHED THEN`,
    `  INSERT (${columns.join(', ')}) VALUES (${columns.map((column) => `S.${column}`).join(', ')})`,
  ].join('\n');
}

function quoteBigQuery(name: string): string {
  return `\`${name}\``;
}

/** Project and dataset ids go into SQL inside backticks: refuse anything that could end the quote. */
function checkName(name: string, what: 'project' | 'dataset'): void {
  if (what === 'project' && !/^[A-Za-z0-9.:-]{1,200}$/.test(name)) {
    throw new ConnectorFailed('BIGQUERY_KEY_MALFORMED', `the key's project_id ${JSON.stringify(name)} is not a BigQuery project id`);
  }
  if (what === 'dataset' && !/^[A-Za-z0-9_]{1,1024}$/.test(name)) {
    throw new AppError('unprocessable', 'DATASET_NAME_INVALID', `${JSON.stringify(name)} is not a BigQuery dataset id`);
  }
}

interface JobMetadata {
  status?: { state?: string; errorResult?: { reason?: string; message?: string } | null };
  statistics?: { query?: { numDmlAffectedRows?: string } };
}

/**
 * Finds the job a previous attempt started under `baseId` (or its numbered successors, when
 * one failed) or starts it with `insert`, and waits until it is done. A job BigQuery reports
 * as already existing is the previous attempt's: it is waited for, never run twice.
 */
async function completeJob(destination: Destination, baseId: string, insert: (jobId: string) => Promise<void>): Promise<JobMetadata> {
  for (let attempt = 1; attempt <= MAX_JOB_IDS; attempt += 1) {
    const jobId = attempt === 1 ? baseId : `${baseId}_${attempt}`;
    let found = await findJob(destination, jobId);
    if (found?.status?.state === 'DONE' && found.status.errorResult) continue;
    if (!found) {
      try {
        await insert(jobId);
      } catch (error) {
        // The job exists (409, or it ran and failed): its metadata says what happened.
        if (!(await findJob(destination, jobId))) throw error;
      }
    }
    found = await waitForJob(destination, jobId);
    const failure = found.status?.errorResult;
    if (failure) {
      throw new ConnectorFailed(
        'BIGQUERY_QUERY_FAILED',
        `BigQuery job ${jobId} failed (${failure.reason ?? 'unknown reason'}); it is retried under a new id`,
      );
    }
    return found;
  }
  throw new ConnectorFailed(
    'BIGQUERY_QUERY_FAILED',
    `BigQuery jobs ${baseId}… failed ${MAX_JOB_IDS} times; check the table's columns and the job history`,
  );
}

async function findJob(destination: Destination, jobId: string): Promise<JobMetadata | undefined> {
  try {
    const metadata: unknown = (
      await destination.bigQuery.job(jobId, destination.location ? { location: destination.location } : {}).getMetadata()
    )[0];
    return metadata as JobMetadata;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

async function waitForJob(destination: Destination, jobId: string): Promise<JobMetadata> {
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5_000)) {
    const metadata = await findJob(destination, jobId);
    if (!metadata) throw new ConnectorFailed('BIGQUERY_QUERY_FAILED', `BigQuery lost job ${jobId}`);
    if (metadata.status?.state === 'DONE') return metadata;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

function statusOf(error: unknown): number | undefined {
  const { code, response } = (error ?? {}) as { code?: unknown; response?: { status?: number } };
  return typeof code === 'number' ? code : response?.status;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/* ------------------------------------------------------- cursor (platform database) */

interface CursorKey {
  readonly exportId: number;
  readonly dataset: string;
  readonly destination: string;
}

interface CursorRow {
  low: string;
  pass_id: string | null;
  high: string | null;
  staged_xid: string | null;
  staged_id: string | null;
  planned_xid: string | null;
  planned_id: string | null;
}

function position(xid: string | null, id: string | null): ChangePosition | undefined {
  return xid !== null && id !== null ? { xid, id: Number(id) } : undefined;
}

async function readCursor(platform: Platform, key: CursorKey): Promise<PassCursor> {
  const { rows } = await platform.db.query<CursorRow>(
    `SELECT low_xid::text AS low, high_xid::text AS high, pass_id, staged_xid::text, staged_id::text, planned_xid::text, planned_id::text
       FROM export_bigquery_cursors WHERE export_id = $1 AND dataset = $2 AND destination = $3`,
    [key.exportId, key.dataset, key.destination],
  );
  const row = rows[0];
  if (!row) return { low: '0', high: undefined, passId: undefined, staged: undefined, planned: undefined };
  return {
    low: row.low,
    high: row.high ?? undefined,
    passId: row.pass_id ?? undefined,
    staged: position(row.staged_xid, row.staged_id),
    planned: position(row.planned_xid, row.planned_id),
  };
}

async function startPass(platform: Platform, key: CursorKey, high: string, passId: string): Promise<void> {
  await platform.db.query(
    `INSERT INTO export_bigquery_cursors (export_id, dataset, destination, high_xid, pass_id) VALUES ($1, $2, $3, $4::xid8, $5)
     ON CONFLICT (export_id, dataset, destination) DO UPDATE
       SET high_xid = EXCLUDED.high_xid, pass_id = EXCLUDED.pass_id, staged_xid = NULL, staged_id = NULL, planned_xid = NULL, planned_id = NULL, updated_at = now()`,
    [key.exportId, key.dataset, key.destination, high, passId],
  );
}

async function planChunk(platform: Platform, key: CursorKey, upTo: ChangePosition): Promise<void> {
  await platform.db.query(
    `UPDATE export_bigquery_cursors SET planned_xid = $4::xid8, planned_id = $5, updated_at = now()
      WHERE export_id = $1 AND dataset = $2 AND destination = $3`,
    [key.exportId, key.dataset, key.destination, upTo.xid, upTo.id],
  );
}

async function recordStaged(platform: Platform, key: CursorKey, upTo: ChangePosition): Promise<void> {
  await platform.db.query(
    `UPDATE export_bigquery_cursors SET staged_xid = $4::xid8, staged_id = $5, planned_xid = NULL, planned_id = NULL, updated_at = now()
      WHERE export_id = $1 AND dataset = $2 AND destination = $3`,
    [key.exportId, key.dataset, key.destination, upTo.xid, upTo.id],
  );
}

/** The pass is merged: every change below `high` is in the table. */
async function moveCursor(platform: Platform, key: CursorKey, high: string): Promise<void> {
  await platform.db.query(
    `INSERT INTO export_bigquery_cursors (export_id, dataset, destination, low_xid) VALUES ($1, $2, $3, $4::xid8)
     ON CONFLICT (export_id, dataset, destination) DO UPDATE
       SET low_xid = EXCLUDED.low_xid, high_xid = NULL, pass_id = NULL, staged_xid = NULL, staged_id = NULL, planned_xid = NULL, planned_id = NULL, updated_at = now()`,
    [key.exportId, key.dataset, key.destination, high],
  );
}

async function hasChanges(platform: Platform, dataset: Dataset, accountId: number, after: ChangePosition, high: string): Promise<boolean> {
  return (await nextChunkBoundary(platform.db, dataset, accountId, after, high, 1)) !== undefined;
}

/** The last change of the pass after `after`, or undefined when none is left. */
async function lastChange(
  platform: Platform,
  dataset: Dataset,
  accountId: number,
  after: ChangePosition,
  high: string,
): Promise<ChangePosition | undefined> {
  const { rows } = await platform.db.query<{ xid: string; id: string }>(
    `SELECT change_xid::text AS xid, id::text AS id FROM ${dataset.drivingTable}
      WHERE account_id = $1 AND (change_xid, id) > ($2::xid8, $3::bigint) AND change_xid < $4::xid8
      ORDER BY change_xid DESC, id DESC LIMIT 1`,
    [accountId, after.xid, after.id, high],
  );
  const row = rows[0];
  return row ? { xid: row.xid, id: Number(row.id) } : undefined;
}
