import { performance } from 'node:perf_hooks';
import type { Client } from 'pg';
import type { Platform } from '../platform';
import { bigQueryClient, bigQueryFailure, readServiceAccountKey } from './bigquery-client';
import { getConnector } from './connector';
import { readPostgresPassword, withPostgresTarget, type PostgresTarget } from './postgres-client';
import { parseServiceAccountKey, postgresSettingsOf, type ConnectorCheckInput, type ServiceAccountKey } from './settings';

/**
 * "Check connection": a real connection and a test query with the given settings, saved or
 * not. A failure throws a ConnectorFailed with its own code; what works is reported with
 * warnings (e.g. NOT_SSL) so the user can still save.
 */
export const checkWarningCodes = ['NOT_SSL', 'NO_READABLE_TABLES', 'NO_DATASETS', 'SCHEMA_NOT_FOUND'] as const;

export interface CheckWarning {
  readonly code: (typeof checkWarningCodes)[number];
  readonly message: string;
}

export interface PostgresCheck {
  readonly ok: true;
  readonly kind: 'postgres';
  readonly serverVersion: string;
  /** Connect plus the test query, in milliseconds. */
  readonly latencyMs: number;
  readonly ssl: boolean;
  /** Reading is enough for a data source; export needs to create tables and write. */
  readonly privileges: { readonly read: boolean; readonly readableTables: number; readonly export: boolean };
  readonly warnings: CheckWarning[];
}

export interface BigQueryCheck {
  readonly ok: true;
  readonly kind: 'bigquery';
  readonly projectId: string;
  readonly clientEmail: string;
  readonly latencyMs: number;
  readonly datasets: number;
  readonly warnings: CheckWarning[];
}

export type ConnectorCheck = PostgresCheck | BigQueryCheck;

/** Checks settings that are not saved yet (the button on the connector form). */
export async function checkConnectorSettings(platform: Platform, input: ConnectorCheckInput): Promise<ConnectorCheck> {
  if (input.kind === 'postgres') {
    return checkPostgres(platform, { settings: postgresSettingsOf(input), password: input.password ?? '' });
  }
  return checkBigQuery(platform, parseServiceAccountKey(input.key ?? ''), input.location);
}

/** Checks a saved connector with its stored credential. */
export async function checkSavedConnector(platform: Platform, accountId: number, connectorId: number): Promise<ConnectorCheck> {
  const connector = await getConnector(platform.db, accountId, connectorId);
  if (connector.postgres) return checkPostgres(platform, { settings: connector.postgres, password: await readPostgresPassword(platform, connector) });
  return checkBigQuery(platform, await readServiceAccountKey(platform, connector), connector.bigquery?.location);
}

interface ProbeRow {
  version: string;
  readable_tables: number;
  can_create: boolean;
  writable: boolean;
  schema_usable: boolean;
}

async function checkPostgres(platform: Platform, target: PostgresTarget): Promise<PostgresCheck> {
  const started = performance.now();
  return withPostgresTarget(platform, target, async (client: Client, session) => {
    const { rows } = await client.query<ProbeRow>(
      `
      SELECT current_setting('server_version') AS version,
             (SELECT count(*)::int FROM information_schema.tables t
               WHERE t.table_schema NOT IN ('pg_catalog', 'information_schema')
                 AND has_table_privilege(format('%I.%I', t.table_schema, t.table_name), 'SELECT')) AS readable_tables,
             EXISTS (SELECT 1 FROM pg_namespace n
                      WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                        AND has_schema_privilege(n.oid, 'CREATE')) AS can_create,
             NOT pg_is_in_recovery() AND current_setting('default_transaction_read_only') = 'off' AS writable,
             EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1 AND has_schema_privilege(oid, 'USAGE')) AS schema_usable`,
      [target.settings.schema],
    );
    const latencyMs = Math.round(performance.now() - started);
    const probe = rows[0]!;
    const warnings: CheckWarning[] = [];
    if (!session.ssl) warnings.push({ code: 'NOT_SSL', message: 'the connection is not protected by SSL; use sslMode require or verify-full' });
    // A warning, not a failure: the connection works and sources may read other schemas; only an
    // export to this one would fail (SCHEMA_NOT_FOUND) until it is created.
    if (!probe.schema_usable)
      warnings.push({
        code: 'SCHEMA_NOT_FOUND',
        message: `the schema ${JSON.stringify(target.settings.schema)} does not exist in this database, or this role may not use it`,
      });
    if (probe.readable_tables === 0) warnings.push({ code: 'NO_READABLE_TABLES', message: 'this role cannot read any table yet (GRANT SELECT)' });
    return {
      ok: true as const,
      kind: 'postgres' as const,
      serverVersion: probe.version,
      latencyMs,
      ssl: session.ssl,
      privileges: { read: probe.readable_tables > 0, readableTables: probe.readable_tables, export: probe.can_create && probe.writable },
      warnings,
    };
  });
}

async function checkBigQuery(platform: Platform, key: ServiceAccountKey, location?: string): Promise<BigQueryCheck> {
  const client = await bigQueryClient(platform, key, location);
  const started = performance.now();
  try {
    const [datasets] = await client.getDatasets({ maxResults: 1000, autoPaginate: false });
    const first = datasets[0];
    // Listing a dataset's tables proves read access to datasets, not just to the project.
    if (first) await first.getTables({ maxResults: 1, autoPaginate: false });
    await client.query({ query: 'SELECT 1 AS ok', maximumBytesBilled: String(platform.config.bigQueryMaximumBytesBilled) });
    const warnings: CheckWarning[] = datasets.length === 0 ? [{ code: 'NO_DATASETS', message: 'the project has no dataset this key can see' }] : [];
    return {
      ok: true,
      kind: 'bigquery',
      projectId: key.project_id,
      clientEmail: key.client_email,
      latencyMs: Math.round(performance.now() - started),
      datasets: datasets.length,
      warnings,
    };
  } catch (error) {
    throw bigQueryFailure(error, key.project_id);
  }
}
