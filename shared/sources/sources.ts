import { z } from 'zod';
import { getConnector, type Queryable } from '../connectors/connector';
import { listColumns } from '../connectors/catalog';
import { AppError, Conflict, NotFound } from '../errors';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';

/**
 * An external data source: one table of a connector, named so messages can reach its rows
 * as `$data.get('<name>')` and events as `data.<id>`.
 */
export interface Source {
  readonly id: number;
  readonly accountId: number;
  readonly connectorId: number;
  readonly name: string;
  readonly dataset: string;
  readonly table: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Safe as a Velocity identifier and map key: a letter or underscore, then letters, digits, underscores. */
export const sourceName = z
  .string()
  .trim()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'letters, digits and underscores, starting with a letter or underscore (at most 63)');

interface SourceRow {
  id: number;
  account_id: number;
  connector_id: number;
  name: string;
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
  const { rows } = await db.query<SourceRow>('SELECT * FROM data_sources WHERE account_id = $1 AND name = $2', [accountId, name]);
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
  const { rows } = await nameTaken(() =>
    platform.db.query<SourceRow>(
      'INSERT INTO data_sources (account_id, connector_id, name, dataset, table_name) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [accountId, connector.id, input.name, input.dataset, input.table],
    ),
  );
  return sourceFromRow(rows[0]!);
}

export async function renameSource(platform: Platform, accountId: number, sourceId: number, name: string): Promise<Source> {
  const { rows } = await nameTaken(() =>
    platform.db.query<SourceRow>(
      'UPDATE data_sources SET name = $3, updated_at = clock_timestamp() WHERE account_id = $1 AND id = $2 RETURNING *',
      [accountId, sourceId, name],
    ),
  );
  if (!rows[0]) throw new SourceNotFound();
  return sourceFromRow(rows[0]);
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
  await client.query(
    'INSERT INTO data_source_uses (data_source_id, user_kind, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [sourceId, use.kind, use.id],
  );
}

export async function releaseSourceUse(client: Queryable, sourceId: number, use: SourceUse): Promise<void> {
  await client.query('DELETE FROM data_source_uses WHERE data_source_id = $1 AND user_kind = $2 AND user_id = $3', [sourceId, use.kind, use.id]);
}

async function nameTaken<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new Conflict('a data source with this name already exists', 'SOURCE_NAME_TAKEN');
    throw error;
  }
}
