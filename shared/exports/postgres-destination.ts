import type { ClientBase } from 'pg';
import { AppError } from '../errors';
import { destinationColumns, VERSION_COLUMN, type Dataset, type DatasetColumn } from './datasets';
import { DestinationTableIncompatible, DestinationTableKeyInvalid } from './errors';

export const CURSOR_TABLE = 'satellite_export_cursors';

/**
 * Makes the schema ready for one dataset: its table (created, or an existing one checked and
 * completed) and the cursor table. PostgreSQL's `CREATE … IF NOT EXISTS` is not safe when two
 * sessions run it at once (the loser gets 23505 on pg_type's unique index), and the eight
 * datasets of an export start together, as do exports sharing a schema. So every DDL runs in
 * one transaction behind an advisory lock of the schema: the sessions take turns, and each
 * sees what the one before it made. Rows are never written under the lock; chunks run beside it.
 */
export async function prepareDestination(destination: ClientBase, schema: string, dataset: Dataset): Promise<void> {
  await destination.query('BEGIN');
  try {
    await destination.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`satellite-export-ddl:${schema}`]);
    const exists = await destination.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0)
      throw new AppError('unprocessable', 'SCHEMA_NOT_FOUND', `schema ${JSON.stringify(schema)} does not exist in the destination database`);
    await ensureCursorTable(destination, schema);
    await ensureDatasetTable(destination, schema, dataset);
    await destination.query('COMMIT');
  } catch (error) {
    await destination.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function ensureCursorTable(destination: ClientBase, schema: string): Promise<void> {
  // Looked up first (under the lock no one makes it in between), so an existing one needs no
  // CREATE statement at all: a role without CREATE on the schema can use one a DBA made for it.
  const found = await destination.query(
    'SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2',
    [schema, CURSOR_TABLE],
  );
  if (found.rowCount !== 0) return;
  await destination.query(
    `CREATE TABLE ${destination.escapeIdentifier(schema)}.${CURSOR_TABLE} (
       export_id  bigint NOT NULL,
       dataset    text NOT NULL,
       low_xid    bigint NOT NULL,
       high_xid   bigint,
       after_xid  bigint,
       after_id   bigint,
       updated_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (export_id, dataset)
     )`,
  );
}

interface ExistingColumn {
  name: string;
  type: string;
  not_null: boolean;
  has_default: boolean;
}

/**
 * Creates the dataset's table, or adopts the one there. An existing table gets the columns it
 * lacks and the key when its rows allow it (no empty, no repeated key); anything else that
 * would make a later write fail is refused now, naming the table and each problem, with
 * nothing changed (the transaction is rolled back).
 */
async function ensureDatasetTable(destination: ClientBase, schema: string, dataset: Dataset): Promise<void> {
  const quote = (name: string) => destination.escapeIdentifier(name);
  const target = `${quote(schema)}.${quote(dataset.name)}`;
  const shown = `${schema}.${dataset.name}`;
  const columns = destinationColumns(dataset);
  const { rows: relations } = await destination.query<{ oid: number; kind: string }>(
    `SELECT c.oid, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, dataset.name],
  );
  const relation = relations[0];
  if (!relation) {
    const definitions = columns.map((column) => `${quote(column.name)} ${column.postgresType}`);
    await destination.query(`CREATE TABLE ${target} (${definitions.join(', ')}, PRIMARY KEY (${dataset.key.map(quote).join(', ')}))`);
    return;
  }
  if (relation.kind !== 'r' && relation.kind !== 'p') {
    throw new DestinationTableIncompatible(shown, [`it is a ${relationKinds[relation.kind] ?? 'relation'}, not a table`]);
  }

  const { rows: existing } = await destination.query<ExistingColumn>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type, attnotnull AS not_null, atthasdef AS has_default
       FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
    [relation.oid],
  );
  const byName = new Map(existing.map((column) => [column.name, column]));
  const problems: string[] = [];
  const missing: DatasetColumn[] = [];
  for (const column of columns) {
    const found = byName.get(column.name);
    if (!found) {
      const differentCase = existing.find((other) => other.name.toLowerCase() === column.name.toLowerCase());
      if (differentCase) problems.push(`column ${differentCase.name} should be named ${column.name} (names are case-sensitive when quoted)`);
      else missing.push(column);
      continue;
    }
    if (!acceptsValuesOf(found.type, column.postgresType))
      problems.push(`column ${column.name} is ${found.type}; Satellite writes ${column.postgresType}`);
    const writesEmpty = !dataset.key.includes(column.name) && column.name !== VERSION_COLUMN;
    if (writesEmpty && found.not_null) problems.push(`column ${column.name} is NOT NULL; Satellite leaves it empty where the platform has no value`);
  }
  const ours = new Set(columns.map((column) => column.name.toLowerCase()));
  for (const column of existing) {
    if (!ours.has(column.name.toLowerCase()) && column.not_null && !column.has_default) {
      problems.push(`column ${column.name} is NOT NULL without a default; Satellite does not write it`);
    }
  }
  if (problems.length > 0) throw new DestinationTableIncompatible(shown, problems);

  for (const column of missing) {
    await destination.query(`ALTER TABLE ${target} ADD COLUMN ${quote(column.name)} ${column.postgresType}`);
  }
  await ensureKey(destination, relation.oid, target, shown, dataset);
}

const relationKinds: Readonly<Record<string, string>> = {
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
  S: 'sequence',
  c: 'composite type',
  i: 'index',
};

/**
 * `INSERT … ON CONFLICT (key)` needs a unique, immediate, whole-table index on exactly the key
 * columns. Missing, it is added: the primary key when the table has none, else a unique
 * constraint beside the customer's own primary key.
 */
async function ensureKey(destination: ClientBase, oid: number, target: string, shown: string, dataset: Dataset): Promise<void> {
  const quote = (name: string) => destination.escapeIdentifier(name);
  const { rows: indexes } = await destination.query<{ columns: string[]; primary: boolean }>(
    `SELECT i.indisprimary AS primary,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) ORDER BY a.attname) AS columns
       FROM pg_index i
      WHERE i.indrelid = $1 AND i.indisunique AND i.indimmediate AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL`,
    [oid],
  );
  const key = [...dataset.key].sort();
  if (indexes.some((index) => index.columns.length === key.length && index.columns.every((name, position) => name === key[position]))) return;

  const keyList = dataset.key.map(quote).join(', ');
  const named = dataset.key.join(', ');
  const empty = await destination.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${target} WHERE ${dataset.key.map((name) => `${quote(name)} IS NULL`).join(' OR ')}`,
  );
  const emptyRows = Number(empty.rows[0]!.n);
  if (emptyRows > 0) {
    throw new DestinationTableKeyInvalid(
      shown,
      `${emptyRows} row${emptyRows === 1 ? ' has' : 's have'} no ${named}; fill or delete them, or export into another schema`,
    );
  }
  const repeated = await destination.query<{ n: string; example: string }>(
    `SELECT count(*) OVER ()::text AS n, concat_ws(', ', ${dataset.key.map(quote).join(', ')}) AS example
       FROM ${target} GROUP BY ${keyList} HAVING count(*) > 1 LIMIT 1`,
  );
  const duplicate = repeated.rows[0];
  if (duplicate) {
    throw new DestinationTableKeyInvalid(
      shown,
      `${duplicate.n} value${duplicate.n === '1' ? '' : 's'} of ${named} appear${duplicate.n === '1' ? 's' : ''} more than once (for example ${duplicate.example}); remove the repeats, or export into another schema`,
    );
  }
  const hasPrimaryKey = indexes.some((index) => index.primary);
  await destination.query(`ALTER TABLE ${target} ADD ${hasPrimaryKey ? 'UNIQUE' : 'PRIMARY KEY'} (${keyList})`);
}

/**
 * Whether a column of type `existing` takes every value Satellite writes as `ours` unchanged.
 * Wider is fine (text for varchar(50), bigint for int); narrower or another kind is not.
 */
export function acceptsValuesOf(existing: string, ours: string): boolean {
  const text = /^varchar(?:\((\d+)\))?$/.exec(ours);
  if (text) {
    if (existing === 'text' || existing === 'character varying') return true;
    const bounded = /^character varying\((\d+)\)$/.exec(existing);
    return bounded !== null && text[1] !== undefined && Number(bounded[1]) >= Number(text[1]);
  }
  // numeric(p, s) holds an integer of p - s digits; int needs 10, bigint 19.
  const numeric = /^numeric(?:\((\d+),(\d+)\))?$/.exec(existing);
  const integerDigits = numeric ? (numeric[1] === undefined ? Infinity : Number(numeric[1]) - Number(numeric[2])) : 0;
  switch (ours) {
    case 'int':
      return existing === 'integer' || existing === 'bigint' || integerDigits >= 10;
    case 'bigint':
      return existing === 'bigint' || integerDigits >= 19;
    case 'numeric':
      // Any scale the customer chose: money kept to cents is rounded to cents.
      return numeric !== null || existing === 'double precision';
    case 'timestamp':
      // The session's zone is UTC, so a timestamptz column reads the seed's UTC times rightly.
      return existing === 'timestamp without time zone' || existing === 'timestamp with time zone';
    default:
      return existing === ours;
  }
}
