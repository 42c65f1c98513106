import { pipeline } from 'node:stream/promises';
import type { ClientBase, Pool } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { changedRowsSql, nextChunkBoundary, passUpperBound, type ChangeCursor, type ChangePosition } from './change-feed';
import { destinationColumns, VERSION_COLUMN } from './datasets';
import type { ExportPassOptions, ExportProgress } from './export-pass';
import { CURSOR_TABLE, prepareDestination } from './postgres-destination';

export interface PostgresExportOptions extends ExportPassOptions {
  /** The platform database (the rows' source). */
  readonly source: Pool;
  /** A session on the customer's database, outside any transaction. */
  readonly destination: ClientBase;
}

/**
 * Exports a dataset's changed rows into the customer's PostgreSQL table, chunk by chunk.
 * Each chunk is one destination transaction: COPY into a temporary table, upsert where the
 * row is newer, and move the cursor kept in the same database. A crash at any point either
 * leaves the chunk and the cursor both written or both untouched, so a retry resumes
 * exactly where the last commit left off.
 */
export async function exportToPostgres(options: PostgresExportOptions): Promise<ExportProgress> {
  const { destination, dataset } = options;
  const target = `${destination.escapeIdentifier(options.schema)}.${destination.escapeIdentifier(dataset.name)}`;
  // Each chunk is staged in a temporary table; let it stay in memory. Only possible before the
  // session's first temporary table, so a reused session keeps what it has.
  await destination.query(`SELECT set_config('temp_buffers', '256MB', false)`).catch(() => undefined);
  await prepareDestination(destination, options.schema, dataset);
  const cursorTable = `${destination.escapeIdentifier(options.schema)}.${CURSOR_TABLE}`;

  const stored = await readCursor(destination, cursorTable, options.exportId, dataset.name);
  const high = stored.high ?? (await passUpperBound(options.source));
  let position: ChangePosition = stored.after ?? { xid: stored.low, id: -1 };
  let rowsWritten = 0;
  // The first pass of an export: every row it reads is new to the table (each row comes once
  // per pass), so chunks can be copied straight in. Should the table hold rows already (it was
  // written by another export), the key refuses them and the chunk is upserted instead.
  let copyStraightIn = stored.low === '0';

  for (;;) {
    const boundary = await nextChunkBoundary(options.source, dataset, options.accountId, position, high, options.chunkRows);
    const next: ChangeCursor = boundary ? { low: stored.low, high, after: boundary } : { low: high, high: undefined, after: undefined };
    const selectSql = changedRowsSql(dataset, options.accountId, position, high, boundary);
    let written: number | undefined;
    if (copyStraightIn) {
      written = await copyChunk(options, target, cursorTable, selectSql, next);
      copyStraightIn = written !== undefined;
    }
    written ??= await writeChunk(options, target, cursorTable, selectSql, next);
    rowsWritten += written;
    await options.onChunkCommitted?.(written);
    if (!boundary) return { rowsWritten, complete: true };
    position = boundary;
    if (!options.hasTimeLeft()) return { rowsWritten, complete: false };
  }
}

async function writeChunk(
  options: PostgresExportOptions,
  target: string,
  cursorTable: string,
  selectSql: string,
  next: ChangeCursor,
): Promise<number> {
  const { destination, dataset } = options;
  const columns = destinationColumns(dataset).map((column) => destination.escapeIdentifier(column.name));
  const keys = dataset.key.map((name) => destination.escapeIdentifier(name));
  const version = destination.escapeIdentifier(VERSION_COLUMN);
  const updates = columns.filter((column) => !keys.includes(column)).map((column) => `${column} = EXCLUDED.${column}`);

  await destination.query('BEGIN');
  try {
    // Safe to lose on a server crash: the chunk and its cursor would be lost together, and redone.
    await destination.query(`SELECT set_config('synchronous_commit', 'off', true)`);
    // Our own column definitions, not LIKE the target: an adopted table may carry the customer's
    // NOT NULL columns (with defaults there, which LIKE would not copy) that the chunk never fills.
    const staging = destinationColumns(dataset).map((column) => `${destination.escapeIdentifier(column.name)} ${column.postgresType}`);
    await destination.query(`CREATE TEMPORARY TABLE satellite_staging (${staging.join(', ')}) ON COMMIT DROP`);
    await copyBetween(options.source, destination, selectSql, `COPY satellite_staging (${columns.join(', ')}) FROM STDIN`);
    await options.onStep?.('staged');
    // A row without a version was not written by Satellite (an adopted table): any export replaces it.
    const upserted = await destination.query(
      `INSERT INTO ${target} AS existing (${columns.join(', ')})
       SELECT ${columns.join(', ')} FROM satellite_staging
       ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${updates.join(', ')}
       WHERE existing.${version} IS NULL OR existing.${version} < EXCLUDED.${version}`,
    );
    await options.onStep?.('upserted');
    await writeCursor(destination, cursorTable, options.exportId, dataset.name, next);
    await options.onStep?.('checkpointed');
    await destination.query('COMMIT');
    await options.onStep?.('committed');
    return upserted.rowCount ?? 0;
  } catch (error) {
    await destination.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * One chunk of a first pass: COPY into the table itself and move the cursor, in one
 * transaction. Answers undefined, having written nothing, when a row is already there.
 */
async function copyChunk(
  options: PostgresExportOptions,
  target: string,
  cursorTable: string,
  selectSql: string,
  next: ChangeCursor,
): Promise<number | undefined> {
  const { destination, dataset } = options;
  const columns = destinationColumns(dataset).map((column) => destination.escapeIdentifier(column.name));
  await destination.query('BEGIN');
  try {
    await destination.query(`SELECT set_config('synchronous_commit', 'off', true)`);
    const copied = await copyBetween(options.source, destination, selectSql, `COPY ${target} (${columns.join(', ')}) FROM STDIN`);
    await options.onStep?.('staged');
    await options.onStep?.('upserted');
    await writeCursor(destination, cursorTable, options.exportId, dataset.name, next);
    await options.onStep?.('checkpointed');
    await destination.query('COMMIT');
    await options.onStep?.('committed');
    return copied;
  } catch (error) {
    await destination.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: unknown }).code === UNIQUE_VIOLATION) return undefined;
    throw error;
  }
}

const UNIQUE_VIOLATION = '23505';

/** Streams the source query's rows straight into the destination's COPY: no chunk is held in memory. Returns the rows copied. */
async function copyBetween(source: Pool, destination: ClientBase, selectSql: string, copyInSql: string): Promise<number> {
  const reader = await source.connect();
  let broken = false;
  try {
    const ingest = destination.query(copyFrom(copyInSql));
    await pipeline(reader.query(copyTo(`COPY (${selectSql}) TO STDOUT`)), ingest);
    return ingest.rowCount;
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    reader.release(broken);
  }
}

interface CursorRow {
  low_xid: string;
  high_xid: string | null;
  after_xid: string | null;
  after_id: string | null;
}

async function readCursor(destination: ClientBase, cursorTable: string, exportId: number, dataset: string): Promise<ChangeCursor> {
  const { rows } = await destination.query<CursorRow>(
    `SELECT low_xid::text, high_xid::text, after_xid::text, after_id::text FROM ${cursorTable} WHERE export_id = $1 AND dataset = $2`,
    [exportId, dataset],
  );
  const row = rows[0];
  if (!row) return { low: '0', high: undefined, after: undefined };
  return {
    low: row.low_xid,
    high: row.high_xid ?? undefined,
    after: row.after_xid !== null && row.after_id !== null ? { xid: row.after_xid, id: Number(row.after_id) } : undefined,
  };
}

async function writeCursor(destination: ClientBase, cursorTable: string, exportId: number, dataset: string, cursor: ChangeCursor): Promise<void> {
  await destination.query(
    `INSERT INTO ${cursorTable} (export_id, dataset, low_xid, high_xid, after_xid, after_id, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (export_id, dataset) DO UPDATE SET low_xid = EXCLUDED.low_xid, high_xid = EXCLUDED.high_xid,
       after_xid = EXCLUDED.after_xid, after_id = EXCLUDED.after_id, updated_at = now()`,
    [exportId, dataset, cursor.low, cursor.high ?? null, cursor.after?.xid ?? null, cursor.after?.id ?? null],
  );
}
