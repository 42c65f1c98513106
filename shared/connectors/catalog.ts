import type { Table } from '@google-cloud/bigquery';
import { ValidationFailed } from '../errors';
import type { Platform } from '../platform';
import { bigQueryFailure, bigQueryFor } from './bigquery-client';
import type { Connector } from './connector';
import { withPostgresConnection } from './postgres-pools';
import { CatalogObjectNotFound } from './errors';

/**
 * Browsing a connector: datasets (PostgreSQL schemas / BigQuery datasets), their tables and
 * a table's columns. Names are only ever bind parameters here; answers are paged and bounded.
 */
export interface Page {
  readonly limit: number;
  readonly pageToken?: string;
}

export interface Paged<T> {
  readonly items: T[];
  readonly nextPageToken?: string;
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
}

export const MAX_PAGE_SIZE = 1000;

function offsetOf(page: Page): number {
  const offset = Number(page.pageToken ?? '0');
  if (!Number.isSafeInteger(offset) || offset < 0) throw new ValidationFailed('pageToken is not one this API gave', undefined, 'INVALID_PAGE_TOKEN');
  return offset;
}

function pageOf<T>(rows: T[], page: Page): Paged<T> {
  const offset = offsetOf(page);
  // One extra row tells whether another page exists without counting the whole catalog.
  return rows.length > page.limit ? { items: rows.slice(0, page.limit), nextPageToken: String(offset + page.limit) } : { items: rows };
}

export async function listDatasets(platform: Platform, connector: Connector, page: Page): Promise<Paged<{ name: string }>> {
  if (connector.postgres) {
    return withPostgresConnection(platform, connector, async (client) => {
      const { rows } = await client.query<{ name: string }>(
        `SELECT nspname AS name FROM pg_namespace
          WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' AND has_schema_privilege(oid, 'USAGE')
          ORDER BY nspname LIMIT $1 OFFSET $2`,
        [page.limit + 1, offsetOf(page)],
      );
      return pageOf(rows, page);
    });
  }
  return onBigQuery(connector, async () => {
    const client = await bigQueryFor(platform, connector);
    const [datasets, next] = await client.getDatasets({
      maxResults: page.limit,
      autoPaginate: false,
      ...(page.pageToken ? { pageToken: page.pageToken } : {}),
    });
    return { items: datasets.map((dataset) => ({ name: dataset.id ?? '' })), ...nextToken(next) };
  });
}

export async function listTables(
  platform: Platform,
  connector: Connector,
  dataset: string,
  page: Page,
): Promise<Paged<{ name: string; type: string }>> {
  if (connector.postgres) {
    return withPostgresConnection(platform, connector, async (client) => {
      const schema = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1 AND has_schema_privilege(oid, 'USAGE')", [dataset]);
      if (!schema.rows.length) throw new CatalogObjectNotFound('dataset', dataset);
      const { rows } = await client.query<{ name: string; type: string }>(
        `SELECT c.relname AS name,
                CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED_VIEW' WHEN 'f' THEN 'FOREIGN_TABLE' ELSE 'TABLE' END AS type
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          ORDER BY c.relname LIMIT $2 OFFSET $3`,
        [dataset, page.limit + 1, offsetOf(page)],
      );
      return pageOf(rows, page);
    });
  }
  return onBigQuery(connector, async () => {
    const client = await bigQueryFor(platform, connector);
    const [tables, next] = await client
      .dataset(dataset)
      .getTables({ maxResults: page.limit, autoPaginate: false, ...(page.pageToken ? { pageToken: page.pageToken } : {}) })
      .catch((error: unknown) => {
        throw notFoundAs(error, 'dataset', dataset);
      });
    return {
      items: tables.map((table: Table) => ({ name: table.id ?? '', type: String((table.metadata as { type?: string }).type ?? 'TABLE') })),
      ...nextToken(next),
    };
  });
}

/** The columns of a table, or CatalogObjectNotFound when the dataset or table does not exist. */
export async function listColumns(platform: Platform, connector: Connector, dataset: string, table: string): Promise<ColumnInfo[]> {
  if (connector.postgres) {
    return withPostgresConnection(platform, connector, async (client) => {
      const { rows } = await client.query<{ found: boolean; name: string | null; type: string | null; nullable: boolean | null }>(
        `SELECT true AS found, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          ORDER BY a.attnum
          LIMIT ${MAX_PAGE_SIZE}`,
        [dataset, table],
      );
      if (!rows.length) throw new CatalogObjectNotFound('table', `${dataset}.${table}`);
      return rows.filter((row) => row.name !== null).map((row) => ({ name: row.name!, type: row.type!, nullable: row.nullable! }));
    });
  }
  return onBigQuery(connector, async () => {
    const client = await bigQueryFor(platform, connector);
    // The client types its answers `any`: read as unknown, narrowed below.
    const answer = await client
      .dataset(dataset)
      .table(table)
      .getMetadata()
      .catch((error: unknown) => {
        throw notFoundAs(
          error,
          /Dataset/.test(String((error as Error).message)) ? 'dataset' : 'table',
          /Dataset/.test(String((error as Error).message)) ? dataset : `${dataset}.${table}`,
        );
      });
    const metadata: unknown = answer[0];
    const fields = ((metadata as { schema?: { fields?: { name: string; type: string; mode?: string }[] } }).schema?.fields ?? []).slice(
      0,
      MAX_PAGE_SIZE,
    );
    return fields.map((field) => ({
      name: field.name,
      type: field.mode === 'REPEATED' ? `ARRAY<${field.type}>` : field.type,
      nullable: field.mode !== 'REQUIRED',
    }));
  });
}

async function onBigQuery<T>(connector: Connector, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw bigQueryFailure(error, connector.bigquery?.projectId ?? '');
  }
}

function notFoundAs(error: unknown, what: 'dataset' | 'table', name: string): unknown {
  return (error as { code?: number }).code === 404 ? new CatalogObjectNotFound(what, name) : error;
}

function nextToken(next: unknown): { nextPageToken?: string } {
  const token = (next as { pageToken?: string } | null | undefined)?.pageToken;
  return token ? { nextPageToken: token } : {};
}
