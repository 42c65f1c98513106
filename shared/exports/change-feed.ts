import type { Pool } from 'pg';
import { destinationColumns, type Dataset } from './datasets';

/** A place in a dataset's change order: (change_xid, id) of its driving table. */
export interface ChangePosition {
  /** A transaction id (xid8) as decimal digits. */
  readonly xid: string;
  readonly id: number;
}

/**
 * Where an export stands for one dataset. Every row changed below `low` is exported. While a
 * pass is under way, `high` is its bound and `after` the last row written; rows in
 * [low, high) past `after` remain.
 */
export interface ChangeCursor {
  readonly low: string;
  readonly high: string | undefined;
  readonly after: ChangePosition | undefined;
}

/**
 * The bound of a new pass: every transaction below the current snapshot's xmin has ended,
 * so no row can still appear below it. A transaction still open now — one that will
 * commit "late" — has an id at or above it and is exported by a later pass.
 */
export async function passUpperBound(source: Pool): Promise<string> {
  const { rows } = await source.query<{ xmin: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
  return rows[0]!.xmin;
}

/** The position of the `chunkRows`-th row after `after` below `high`, or undefined when fewer remain. */
export async function nextChunkBoundary(
  source: Pool,
  dataset: Dataset,
  accountId: number,
  after: ChangePosition,
  high: string,
  chunkRows: number,
): Promise<ChangePosition | undefined> {
  const { rows } = await source.query<{ xid: string; id: number }>(
    `SELECT change_xid::text AS xid, id FROM ${dataset.drivingTable}
      WHERE account_id = $1 AND (change_xid, id) > ($2::xid8, $3::bigint) AND change_xid < $4::xid8
      ORDER BY change_xid, id OFFSET $5 LIMIT 1`,
    [accountId, after.xid, after.id, high, chunkRows - 1],
  );
  const row = rows[0];
  return row ? { xid: row.xid, id: Number(row.id) } : undefined;
}

/**
 * The SELECT whose rows are one chunk: after `after`, up to and including `upTo` (or the
 * rest below `high`). COPY cannot take bind parameters, so the bounds are inlined; each is
 * an integer checked here, never text from a request.
 */
export function changedRowsSql(dataset: Dataset, accountId: number, after: ChangePosition, high: string, upTo: ChangePosition | undefined): string {
  const xid = (value: string) => `'${digits(value)}'::xid8`;
  const int = (value: number) => {
    if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
    return String(value);
  };
  const select = destinationColumns(dataset)
    .map((column) => `${column.source}`)
    .join(', ');
  return `SELECT ${select} FROM ${dataset.drivingTable} t ${dataset.joins}
    WHERE t.account_id = ${int(accountId)}
      AND (t.change_xid, t.id) > (${xid(after.xid)}, ${int(after.id)})
      AND t.change_xid < ${xid(high)}
      ${upTo ? `AND (t.change_xid, t.id) <= (${xid(upTo.xid)}, ${int(upTo.id)})` : ''}`;
}

function digits(value: string): string {
  if (!/^\d{1,20}$/.test(value)) throw new Error(`not a transaction id: ${value}`);
  return value;
}
