import type { PoolClient } from 'pg';
import { AppError, Conflict, ValidationFailed } from '../errors';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';
import { connectorFromRow, getConnector, type Connector, type ConnectorRow } from './connector';
import type { BigQuerySettings, PostgresSettings } from './settings';
import { parseServiceAccountKey, postgresSettingsOf, type ConnectorInput, type ConnectorUpdate } from './settings';

/** A connector as the API shows it: every setting, never the password or the key. */
export interface ConnectorView {
  readonly id: number;
  readonly kind: 'postgres' | 'bigquery';
  readonly name: string;
  readonly uniqueKey: Connector['uniqueKey'];
  readonly postgres?: PostgresSettings;
  readonly bigquery?: BigQuerySettings;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function viewOf(connector: Connector): ConnectorView {
  return {
    id: connector.id,
    kind: connector.kind,
    name: connector.name,
    uniqueKey: connector.uniqueKey,
    ...(connector.postgres ? { postgres: connector.postgres } : {}),
    ...(connector.bigquery ? { bigquery: connector.bigquery } : {}),
    createdAt: connector.createdAt,
    updatedAt: connector.updatedAt,
  };
}

interface Prepared {
  readonly settings: PostgresSettings | BigQuerySettings;
  /** The secret's JSON, or undefined to keep the stored one. */
  readonly secret?: string;
}

function prepare(input: ConnectorInput | ConnectorUpdate, previous?: Connector): Prepared {
  if (input.kind === 'postgres') {
    const settings = postgresSettingsOf(input);
    if (input.password === undefined && previous?.postgres && !sameServer(previous.postgres, settings)) {
      // The stored password must never go to a server it was not given for: a caller who
      // points the connector elsewhere could receive it there in clear.
      throw new AppError(
        'invalid',
        'PASSWORD_REQUIRED',
        'send the password again when the host, port, database, user, SSL mode or CA certificate changes',
      );
    }
    return { settings, secret: input.password === undefined ? undefined : JSON.stringify({ password: input.password }) };
  }
  if (input.key === undefined) {
    if (!previous?.bigquery) throw new AppError('invalid', 'BIGQUERY_KEY_MALFORMED', 'a service-account key is required');
    return { settings: { ...previous.bigquery, location: input.location } };
  }
  const key = parseServiceAccountKey(input.key);
  const settings: BigQuerySettings = {
    projectId: key.project_id,
    clientEmail: key.client_email,
    ...(input.location ? { location: input.location } : {}),
  };
  return { settings, secret: JSON.stringify(key) };
}

function sameServer(a: PostgresSettings, b: PostgresSettings): boolean {
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.database === b.database &&
    a.user === b.user &&
    a.sslMode === b.sslMode &&
    a.caCertificate === b.caCertificate
  );
}

function secretName(accountId: number, connectorId: number): string {
  return `connectors/${accountId}/${connectorId}`;
}

export async function createConnector(platform: Platform, accountId: number, input: ConnectorInput): Promise<ConnectorView> {
  const prepared = prepare(input);
  const connector = await withTransaction(platform.db, async (client) => {
    const { rows } = await insertOrConflict(client, () =>
      client.query<{ id: number }>(
        `INSERT INTO connectors (account_id, kind, name, settings, unique_key_column, unique_key_contact_field, secret_ref)
         VALUES ($1, $2, $3, $4, $5, $6, '') RETURNING id`,
        [accountId, input.kind, input.name, prepared.settings, input.uniqueKey.column, input.uniqueKey.contactField],
      ),
    );
    const id = rows[0]!.id;
    // Inside the transaction: if the secret store fails, no connector without a credential remains.
    const secretRef = await platform.secrets.put(secretName(accountId, id), prepared.secret!);
    await client.query('UPDATE connectors SET secret_ref = $2 WHERE id = $1', [id, secretRef]);
    return getConnector(client, accountId, id);
  });
  return viewOf(connector);
}

export async function listConnectors(platform: Platform, accountId: number): Promise<ConnectorView[]> {
  const { rows } = await platform.db.query<ConnectorRow>('SELECT * FROM connectors WHERE account_id = $1 ORDER BY id', [accountId]);
  return rows.map((row) => viewOf(connectorFromRow(row)));
}

export async function updateConnector(platform: Platform, accountId: number, connectorId: number, input: ConnectorUpdate): Promise<ConnectorView> {
  if (input.id !== undefined && input.id !== connectorId) {
    throw new ValidationFailed(`the body is connector ${input.id}'s, the path names connector ${connectorId}`, [
      { path: 'body.id', message: 'must be the id in the path' },
    ]);
  }
  const connector = await withTransaction(platform.db, async (client) => {
    const previous = await getConnector(client, accountId, connectorId);
    if (previous.kind !== input.kind)
      throw new AppError('invalid', 'CONNECTOR_KIND_IMMUTABLE', 'a connector cannot change its kind; create another connector');
    if (previous.uniqueKey.column !== input.uniqueKey.column || previous.uniqueKey.contactField !== input.uniqueKey.contactField) {
      await refuseWhileSourcesExist(client, connectorId, 'the unique key of a connector with data sources cannot change');
    }
    const prepared = prepare(input, previous);
    await insertOrConflict(client, () =>
      client.query(
        `UPDATE connectors SET name = $3, settings = $4, unique_key_column = $5, unique_key_contact_field = $6, updated_at = clock_timestamp()
         WHERE account_id = $1 AND id = $2`,
        [accountId, connectorId, input.name, prepared.settings, input.uniqueKey.column, input.uniqueKey.contactField],
      ),
    );
    if (prepared.secret !== undefined) await platform.secrets.put(secretName(accountId, connectorId), prepared.secret);
    return getConnector(client, accountId, connectorId);
  });
  return viewOf(connector);
}

export async function deleteConnector(platform: Platform, accountId: number, connectorId: number): Promise<void> {
  const secretRef = await withTransaction(platform.db, async (client) => {
    const connector = await getConnector(client, accountId, connectorId);
    await refuseWhileSourcesExist(client, connectorId, 'this connector still feeds data sources; delete them first');
    // Exports name their connector by id (no foreign key across capabilities): one left behind
    // would fail every run with CONNECTOR_NOT_FOUND while its schedule kept firing.
    const exports = await client.query('SELECT 1 FROM exports WHERE connector_id = $1 LIMIT 1', [connectorId]);
    if (exports.rows.length) throw new Conflict('exports still write through this connector; delete them first', 'CONNECTOR_IN_USE');
    await client.query('DELETE FROM connectors WHERE id = $1', [connectorId]);
    return connector.secretRef;
  });
  await platform.secrets.delete(secretRef);
}

async function refuseWhileSourcesExist(client: PoolClient, connectorId: number, message: string): Promise<void> {
  const { rows } = await client.query('SELECT 1 FROM data_sources WHERE connector_id = $1 LIMIT 1', [connectorId]);
  if (rows.length) throw new Conflict(message, 'CONNECTOR_IN_USE');
}

async function insertOrConflict<T>(client: PoolClient, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new Conflict('a connector with this name already exists', 'CONNECTOR_NAME_TAKEN');
    throw error;
  }
}
