import { bigQueryFailure, bigQueryFor, getConnector, withPostgresConnection, type Connector } from '../connectors/connections';
import type { Platform } from '../platform';
import { postgresRowTypes, stringFromBigQuery, type Row } from './row-values';
import type { Source } from './sources';

export type { Row } from './row-values';

/**
 * The rows of a source whose unique-key column matches each contact key, in one round trip.
 * Every requested key is in the answer (with `[]` when nothing matches). The identifiers come
 * from the saved source, which was checked against the catalog when it was saved, and are
 * quoted; the keys are one bind parameter.
 */
export async function lookupRows(platform: Platform, source: Source, keys: readonly string[]): Promise<Map<string, Row[]>> {
  const result = new Map<string, Row[]>(keys.map((key) => [key, []]));
  if (keys.length === 0) return result;
  const connector = await getConnector(platform.db, source.accountId, source.connectorId);
  const rows = connector.postgres ? await lookupPostgres(platform, connector, source, [...new Set(keys)]) : await lookupBigQuery(platform, connector, source, [...new Set(keys)]);
  const column = connector.uniqueKey.column;
  for (const row of rows) {
    const key = row[column];
    if (key !== null && key !== undefined) result.get(key)?.push(row);
  }
  return result;
}

export function quotePostgresIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** BigQuery names cannot hold backticks or backslashes; refuse rather than escape. */
export function quoteBigQueryIdentifier(name: string): string {
  if (/[`\\]/.test(name) || name.length === 0) throw new Error(`unsafe BigQuery identifier ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

async function lookupPostgres(platform: Platform, connector: Connector, source: Source, keys: string[]): Promise<Row[]> {
  const table = `${quotePostgresIdentifier(source.dataset)}.${quotePostgresIdentifier(source.table)}`;
  const column = quotePostgresIdentifier(connector.uniqueKey.column);
  return withPostgresConnection(platform, connector, async (client) => {
    // `= ANY($1)` lets PostgreSQL type the array as the column's type, so an index on it is used.
    await client.query('SAVEPOINT typed_lookup');
    try {
      const { rows } = await client.query<Row>({ text: `SELECT * FROM ${table} WHERE ${column} = ANY($1)`, values: [keys], types: postgresRowTypes });
      return rows;
    } catch (error) {
      // A key that is not valid for the column's type (an email against an integer column): compare as text.
      if ((error as { code?: string }).code !== '22P02') throw error;
      await client.query('ROLLBACK TO SAVEPOINT typed_lookup');
      const { rows } = await client.query<Row>({ text: `SELECT * FROM ${table} WHERE ${column}::text = ANY($1::text[])`, values: [keys], types: postgresRowTypes });
      return rows;
    }
  });
}

async function lookupBigQuery(platform: Platform, connector: Connector, source: Source, keys: string[]): Promise<Row[]> {
  const projectId = connector.bigquery!.projectId;
  const table = [projectId, source.dataset, source.table].map(quoteBigQueryIdentifier).join('.');
  const column = quoteBigQueryIdentifier(connector.uniqueKey.column);
  try {
    const client = await bigQueryFor(platform, connector);
    const [rows] = await client.query({
      query: `SELECT * FROM ${table} WHERE CAST(${column} AS STRING) IN UNNEST(@keys)`,
      params: { keys },
      types: { keys: ['STRING'] },
      wrapIntegers: true,
      maximumBytesBilled: String(platform.config.bigQueryMaximumBytesBilled),
    });
    return (rows as Record<string, unknown>[]).map((row) => Object.fromEntries(Object.entries(row).map(([name, value]) => [name, stringFromBigQuery(value)])));
  } catch (error) {
    throw bigQueryFailure(error, projectId);
  }
}
