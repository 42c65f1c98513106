import * as z from 'zod';
import { getConnector, type Queryable } from '../connectors/connector';
import { listColumns } from '../connectors/catalog';
import { AppError, Conflict, NotFound } from '../errors';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';

/**
 * An external data source: one table of a connector, named so messages can reach its rows
 * as `$data.get('<name>')` and events as `data.<id>` (or `data.<legacyId>`).
 */
export interface Source {
  readonly id: number;
  readonly accountId: number;
  readonly connectorId: number;
  readonly name: string;
  /** The id the source had on the platform the account moved from (eSputnik's 1043); null when none. */
  readonly legacyId: number | null;
  readonly dataset: string;
  readonly table: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const MAX_SOURCE_NAME_LENGTH = 100;

/**
 * Any name `$data.get('…')` can hold: letters of any script, digits, spaces, hyphens,
 * punctuation (seed 000's own example is 'назва_джерела'); trimmed and in Unicode NFC, so
 * the name saved is the one a template typed elsewhere spells. Control characters, which
 * no template holds, are refused. A name that is an ASCII Velocity identifier also works
 * as `$data.<name>`; any other needs `$data.get('<name>')` (a name holding ' needs "…").
 */
export const sourceName = z
  .string()
  .transform((name) => name.trim().normalize('NFC'))
  .pipe(
    z
      .string()
      .min(1, 'a name is needed')
      .max(MAX_SOURCE_NAME_LENGTH, `at most ${MAX_SOURCE_NAME_LENGTH} characters`)
      .refine((name) => !/\p{Cc}|[\u2028\u2029]/u.test(name), 'no control characters or line breaks'),
  );

/** Unique per account ignoring case: 'Promo' and 'promo' would be told apart only by a template's spelling. */
export function sourceNameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** A legacy id, as eSputnik numbered sources and segments. */
export const legacyId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

interface SourceRow {
  id: number;
  account_id: number;
  connector_id: number;
  name: string;
  legacy_id: string | null;
  dataset: string;
  table_name: string;
  created_at: Date;
  updated_at: Date;
}

function sourceFromRow(row: SourceRow): Source {
  return {
    id: row.id,
    accountId: row.account_id,
    connectorId: row.connector_id,
    name: row.name,
    legacyId: row.legacy_id === null ? null : Number(row.legacy_id),
    dataset: row.dataset,
    table: row.table_name,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export class SourceNotFound extends NotFound {
  constructor() {
    super('data source', 'SOURCE_NOT_FOUND');
  }
}

export async function getSource(db: Queryable, accountId: number, sourceId: number): Promise<Source> {
  const { rows } = await db.query<SourceRow>('SELECT * FROM data_sources WHERE account_id = $1 AND id = $2', [accountId, sourceId]);
  if (!rows[0]) throw new SourceNotFound();
  return sourceFromRow(rows[0]);
}

export async function getSourceByName(db: Queryable, accountId: number, name: string): Promise<Source> {
  const { rows } = await db.query<SourceRow>('SELECT * FROM data_sources WHERE account_id = $1 AND name_key = $2', [accountId, sourceNameKey(name)]);
  if (!rows[0]) throw new SourceNotFound();
  return sourceFromRow(rows[0]);
}

export async function listSources(db: Queryable, accountId: number, connectorId?: number): Promise<Source[]> {
  const { rows } = await db.query<SourceRow>(
    'SELECT * FROM data_sources WHERE account_id = $1 AND ($2::bigint IS NULL OR connector_id = $2) ORDER BY id',
    [accountId, connectorId ?? null],
  );
  return rows.map(sourceFromRow);
}

export interface NewSource {
  readonly connectorId: number;
  readonly dataset: string;
  readonly table: string;
  readonly name: string;
  readonly legacyId?: number;
}

/** Saves a source after checking, on the connector itself, that the table exists and holds the unique key column. */
export async function createSource(platform: Platform, accountId: number, input: NewSource): Promise<Source> {
  const connector = await getConnector(platform.db, accountId, input.connectorId);
  const columns = await listColumns(platform, connector, input.dataset, input.table);
  if (!columns.some((column) => column.name === connector.uniqueKey.column)) {
    throw new AppError(
      'unprocessable',
      'UNIQUE_KEY_COLUMN_MISSING',
      `the table has no column ${JSON.stringify(connector.uniqueKey.column)}, the connector's unique contact key`,
    );
  }
  if (input.legacyId !== undefined) await legacyIdFree(platform.db, accountId, input.legacyId, null);
  const { rows } = await uniqueTaken(() =>
    platform.db.query<SourceRow>(
      'INSERT INTO data_sources (account_id, connector_id, name, name_key, legacy_id, dataset, table_name) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *',
      [accountId, connector.id, input.name, sourceNameKey(input.name), input.legacyId ?? null, input.dataset, input.table],
    ),
  );
  return sourceFromRow(rows[0]!);
}

export interface SourceChanges {
  readonly name?: string;
  /** null removes it. */
  readonly legacyId?: number | null;
}

/** Renames a source, and sets or removes its legacy id; what is left out stays. */
export async function updateSource(platform: Platform, accountId: number, sourceId: number, changes: SourceChanges): Promise<Source> {
  if (changes.legacyId != null) await legacyIdFree(platform.db, accountId, changes.legacyId, sourceId);
  const { rows } = await uniqueTaken(() =>
    platform.db.query<SourceRow>(
      `UPDATE data_sources
          SET name = coalesce($3, name), name_key = coalesce($4, name_key),
              legacy_id = CASE WHEN $5 THEN $6::bigint ELSE legacy_id END, updated_at = clock_timestamp()
        WHERE account_id = $1 AND id = $2 RETURNING *`,
      [
        accountId,
        sourceId,
        changes.name ?? null,
        changes.name === undefined ? null : sourceNameKey(changes.name),
        changes.legacyId !== undefined,
        changes.legacyId ?? null,
      ],
    ),
  );
  if (!rows[0]) throw new SourceNotFound();
  return sourceFromRow(rows[0]);
}

/**
 * A legacy id must not be another source's id either: `data.get('1043')` would then name two
 * sources. (A source created later whose own id equals a legacy id is the one exception the
 * identity sequence cannot prevent; there the legacy id wins, see `withSourceAliases`.)
 */
async function legacyIdFree(db: Queryable, accountId: number, legacy: number, sourceId: number | null): Promise<void> {
  const { rows } = await db.query<{ id: number }>(
    'SELECT id FROM data_sources WHERE account_id = $1 AND id = $2 AND id IS DISTINCT FROM $3::bigint',
    [accountId, legacy, sourceId],
  );
  if (rows[0]) throw new Conflict(`${legacy} is the id of another data source of this account`, 'LEGACY_ID_TAKEN');
}

/**
 * `$data` of a triggered message carries a source's rows under one key, the native id or the
 * legacy id (jsonParam from Satellite's own workflows uses the legacy id when there is one;
 * one sent through the API uses what its sender chose). Each source's rows are made reachable
 * under the other key too, so a template written for either renders the same.
 */
export function withSourceAliases(data: Readonly<Record<string, unknown>>, sources: readonly Source[]): Record<string, unknown> {
  const result: Record<string, unknown> = { ...data };
  for (const source of sources) {
    if (source.legacyId === null) continue;
    const native = String(source.id);
    const legacy = String(source.legacyId);
    if (Object.hasOwn(data, legacy) && !Object.hasOwn(result, native))
      Object.defineProperty(result, native, { value: data[legacy], enumerable: true, writable: true, configurable: true });
    else if (Object.hasOwn(data, native) && !Object.hasOwn(data, legacy))
      Object.defineProperty(result, legacy, { value: data[native], enumerable: true, writable: true, configurable: true });
  }
  return result;
}

export interface SourceUse {
  readonly kind: string;
  readonly id: string;
}

/**
 * Deletes a source; one still used by a segment, workflow or export needs `force` (the uses
 * go with it, and workflows go on without it).
 */
export async function deleteSource(platform: Platform, accountId: number, sourceId: number, force: boolean): Promise<void> {
  await withTransaction(platform.db, async (client) => {
    const source = await client.query('SELECT 1 FROM data_sources WHERE account_id = $1 AND id = $2 FOR UPDATE', [accountId, sourceId]);
    if (!source.rows.length) throw new SourceNotFound();
    const uses = await sourceUses(client, sourceId);
    if (uses.length && !force) {
      throw new AppError(
        'conflict',
        'SOURCE_IN_USE',
        'this data source is used; delete with force=true to delete it anyway',
        uses.slice(0, 20).map((use) => ({ path: `${use.kind}/${use.id}`, message: `used by ${use.kind} ${use.id}` })),
      );
    }
    await client.query('DELETE FROM data_sources WHERE id = $1', [sourceId]);
    // A regular workflow names its sources by id (no foreign key: an array); one still naming
    // this source would fail every run from now on. It goes on without the source's data.
    await client.query(
      'UPDATE regular_workflows SET source_ids = array_remove(source_ids, $2), updated_at = now() WHERE account_id = $1 AND $2 = ANY(source_ids)',
      [accountId, sourceId],
    );
  });
}

export async function sourceUses(db: Queryable, sourceId: number): Promise<SourceUse[]> {
  const { rows } = await db.query<{ user_kind: string; user_id: string }>(
    'SELECT user_kind, user_id FROM data_source_uses WHERE data_source_id = $1 ORDER BY created_at',
    [sourceId],
  );
  return rows.map((row) => ({ kind: row.user_kind, id: row.user_id }));
}

/** Segments and exports call this (in their own transaction) when they start using a source. */
export async function registerSourceUse(client: Queryable, sourceId: number, use: SourceUse): Promise<void> {
  await client.query('INSERT INTO data_source_uses (data_source_id, user_kind, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
    sourceId,
    use.kind,
    use.id,
  ]);
}

export async function releaseSourceUse(client: Queryable, sourceId: number, use: SourceUse): Promise<void> {
  await client.query('DELETE FROM data_source_uses WHERE data_source_id = $1 AND user_kind = $2 AND user_id = $3', [sourceId, use.kind, use.id]);
}

async function uniqueTaken<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string };
    if (code === '23505' && constraint === 'data_sources_account_legacy_id')
      throw new Conflict('another data source of this account has this legacy id', 'LEGACY_ID_TAKEN');
    if (code === '23505') throw new Conflict('a data source with this name already exists (names are compared ignoring case)', 'SOURCE_NAME_TAKEN');
    throw error;
  }
}
