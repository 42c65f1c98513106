import { ConnectorNotFound } from './errors';
import type { BigQuerySettings, ContactKeyField, PostgresSettings, UniqueKey } from './settings';

/** A saved connector as domain code sees it: settings, never the credential itself. */
export interface Connector {
  readonly id: number;
  readonly accountId: number;
  readonly kind: 'postgres' | 'bigquery';
  readonly name: string;
  readonly uniqueKey: { readonly column: string; readonly contactField: ContactKeyField };
  readonly postgres?: PostgresSettings;
  readonly bigquery?: BigQuerySettings;
  /** Where the password or key lives in the secrets port. */
  readonly secretRef: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Queryable {
  query<R extends object>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export interface ConnectorRow {
  id: number;
  account_id: number;
  kind: 'postgres' | 'bigquery';
  name: string;
  settings: Record<string, unknown>;
  unique_key_column: string;
  unique_key_contact_field: string;
  secret_ref: string;
  created_at: Date;
  updated_at: Date;
}

export function connectorFromRow(row: ConnectorRow): Connector {
  const uniqueKey: UniqueKey = { column: row.unique_key_column, contactField: row.unique_key_contact_field as ContactKeyField };
  return {
    id: row.id,
    accountId: row.account_id,
    kind: row.kind,
    name: row.name,
    uniqueKey,
    ...(row.kind === 'postgres'
      ? { postgres: row.settings as unknown as PostgresSettings }
      : { bigquery: row.settings as unknown as BigQuerySettings }),
    secretRef: row.secret_ref,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function getConnector(db: Queryable, accountId: number, connectorId: number): Promise<Connector> {
  const { rows } = await db.query<ConnectorRow>('SELECT * FROM connectors WHERE account_id = $1 AND id = $2', [accountId, connectorId]);
  const row = rows[0];
  if (!row) throw new ConnectorNotFound();
  return connectorFromRow(row);
}
