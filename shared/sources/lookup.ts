import { bigQueryFailure, bigQueryFor } from '../connectors/bigquery-client';
import { getConnector, type Connector } from '../connectors/connector';
import { withPostgresConnection } from '../connectors/postgres-pools';
import type { Platform } from '../platform';
import { normalizeKey, type ContactKey } from './contact-keys';
import { postgresRowTypes, stringFromBigQuery, type Row } from './row-values';
import { bigQuerySourceFailure, sourceQueryFailure } from './query-failure';
import type { Source } from './sources';

export type { Row } from './row-values';

/**
 * The rows of a source whose unique-key column holds each contact's key (in any of its
 * `lookupValues` spellings), in one round trip, keyed by the contact's `key`. Every contact
 * with a key is in the answer (with `[]` when nothing matches). The identifiers come from the
 * saved source, which was checked against the catalog when it was saved, and are quoted;
 * the values are one bind parameter.
 */
export async function lookupRows(platform: Platform, source: Source, contacts: readonly ContactKey[]): Promise<Map<string, Row[]>> {
  const keyed = contacts.flatMap((contact) => (contact.key === null ? [] : [contact.key]));
  const result = new Map<string, Row[]>(keyed.map((key) => [key, []]));
  if (keyed.length === 0) return result;
  const values = [...new Set(contacts.flatMap((contact) => contact.lookupValues))];
  const connector = await getConnector(platform.db, source.accountId, source.connectorId);
  const rows = connector.postgres
    ? await lookupPostgres(platform, connector, source, values)
    : await lookupBigQuery(platform, connector, source, values);
  const { column, contactField } = connector.uniqueKey;
  for (const row of rows) {
    const value = row[column];
    if (value !== null && value !== undefined) result.get(normalizeKey(contactField, value))?.push(row);
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
      const { rows } = await client.query<Row>({
        text: `SELECT * FROM ${table} WHERE ${column}::text = ANY($1::text[])`,
        values: [keys],
        types: postgresRowTypes,
      });
      return rows;
    }
  }).catch((error: unknown) => {
    throw sourceQueryFailure(error);
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
    return (rows as Record<string, unknown>[]).map((row) =>
      Object.fromEntries(Object.entries(row).map(([name, value]) => [name, stringFromBigQuery(value)])),
    );
  } catch (error) {
    throw bigQuerySourceFailure(bigQueryFailure(error, projectId));
  }
}
