import { BigQuery } from '@google-cloud/bigquery';
import { Client, Pool, type PoolClient, type ClientConfig } from 'pg';
import { AppError } from '../errors';
import { destinationPolicy, resolveDestination, type ResolvedDestination } from '../net/destination-guard';
import type { Platform } from '../platform';
import { ConnectorFailed, ConnectorNotFound } from './errors';
import type { ContactKeyField, ServiceAccountKey, SslMode, UniqueKey } from './settings';

export interface PostgresSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly sslMode: SslMode;
  readonly caCertificate?: string;
}

export interface BigQuerySettings {
  readonly projectId: string;
  readonly clientEmail: string;
  readonly location?: string;
}

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
    ...(row.kind === 'postgres' ? { postgres: row.settings as unknown as PostgresSettings } : { bigquery: row.settings as unknown as BigQuerySettings }),
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

/* ---------------------------------------------------------------- PostgreSQL */

export interface PostgresWorkOptions {
  /** Default true: the work runs in a READ ONLY transaction. False hands over a plain session (exports manage their own transactions). */
  readonly readOnly?: boolean;
  readonly statementTimeoutMs?: number;
}

/** Settings plus credential, saved or not (the "Check connection" button checks unsaved ones). */
export interface PostgresTarget {
  readonly settings: PostgresSettings;
  readonly password: string;
}

interface PostgresSecret {
  readonly password: string;
}

export async function readPostgresPassword(platform: Platform, connector: Connector): Promise<string> {
  return (JSON.parse(await platform.secrets.get(connector.secretRef)) as PostgresSecret).password;
}

/**
 * Runs `work` on a pooled connection to the connector's database. Pools are per connector
 * version and per platform; every connection goes to an address the host resolved to
 * (refused if internal in production). A database that fails over keeps its name and
 * changes its address, so the host is resolved again every `connectorDnsRecheckSeconds`,
 * after a connection was lost, and at once when a connection cannot be opened: an address
 * the name no longer gives is left for a new pool, once that pool has connected.
 */
export async function withPostgresConnection<T>(
  platform: Platform,
  connector: Connector,
  work: (client: PoolClient) => Promise<T>,
  options: PostgresWorkOptions = {},
): Promise<T> {
  if (!connector.postgres) throw new AppError('invalid', 'CONNECTOR_KIND_MISMATCH', 'this connector is not a PostgreSQL connector');
  const entry = entryFor(platform, connector);
  let used = await entry.pool;
  recheckIfDue(platform, connector, entry, used);
  let client: PoolClient;
  try {
    client = await used.pool.connect();
  } catch (error) {
    // A retired pool hears of no failed connect: it may be unused now.
    poolsByPlatform.get(platform)?.retired.get(used.pool)?.();
    // Ended under this call, by a newer version of the connector or by the platform closing.
    if (used.pool.ending) return withOwnPool(platform, connector, work, options);
    const failure = postgresFailure(error, connector.postgres);
    if (!addressFailures.has(failure.connectorCode)) throw failure;
    let moved: ConnectorPool | undefined;
    try {
      moved = await movedPool(platform, connector, entry, used);
    } catch (moveError) {
      throw postgresFailure(moveError, connector.postgres);
    }
    if (!moved || moved === used) throw failure;
    used = moved;
    try {
      client = await used.pool.connect();
    } catch (retryError) {
      throw postgresFailure(retryError, connector.postgres);
    }
  }
  return runWork(platform, client, work, options, (broken) => {
    // The server went away under us: the next call asks DNS where it is now.
    if (broken) used.resolvedAt = Number.NEGATIVE_INFINITY;
    client.release(broken);
  });
}

/** One call on a pool of its own, closed after it. */
async function withOwnPool<T>(platform: Platform, connector: Connector, work: (client: PoolClient) => Promise<T>, options: PostgresWorkOptions): Promise<T> {
  let own: ConnectorPool;
  let client: PoolClient;
  try {
    own = await createPool(platform, connector);
  } catch (error) {
    throw postgresFailure(error, connector.postgres!);
  }
  try {
    client = await own.pool.connect();
  } catch (error) {
    void own.pool.end().catch(() => undefined);
    throw postgresFailure(error, connector.postgres!);
  }
  return runWork(platform, client, work, options, (broken) => {
    client.release(broken);
    void own.pool.end().catch(() => undefined);
  });
}

/** Failures that a database which moved to another address would cause. */
const addressFailures: ReadonlySet<string> = new Set(['CONNECTION_REFUSED', 'CONNECTION_TIMEOUT', 'HOST_UNREACHABLE', 'CONNECTION_FAILED']);

/** One unpooled connection for unsaved settings; closed when `work` ends. */
export async function withPostgresTarget<T>(
  platform: Platform,
  target: PostgresTarget,
  work: (client: Client, session: PostgresSession) => Promise<T>,
  options: PostgresWorkOptions = {},
): Promise<T> {
  const destination = await resolve(platform, target.settings.host);
  const { client, session } = await openClient(platform, target, destination);
  return runWork(platform, client, (connected) => work(connected, session), options, () => void client.end().catch(() => undefined));
}

export interface PostgresSession {
  /** Whether TLS was negotiated (false after `prefer` fell back to plain TCP, or with `disable`). */
  readonly ssl: boolean;
  readonly address: string;
}

async function runWork<C extends Client, T>(
  platform: Platform,
  client: C,
  work: (client: C) => Promise<T>,
  options: PostgresWorkOptions,
  done: (broken?: Error) => void,
): Promise<T> {
  const readOnly = options.readOnly ?? true;
  const timeout = String(options.statementTimeoutMs ?? platform.config.connectorStatementTimeoutMs);
  let broken: Error | undefined;
  try {
    if (readOnly) {
      await client.query('BEGIN READ ONLY');
      // set_config takes bind parameters, unlike SET; UTC makes timestamptz text unambiguous.
      await client.query("SELECT set_config('statement_timeout', $1, true), set_config('TimeZone', 'UTC', true)", [timeout]);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    }
    await client.query("SELECT set_config('statement_timeout', $1, false), set_config('TimeZone', 'UTC', false)", [timeout]);
    return await work(client);
  } catch (error) {
    if (readOnly) await client.query('ROLLBACK').catch(() => undefined);
    if (isConnectionLoss(error)) broken = error as Error;
    throw mapQueryError(error);
  } finally {
    done(broken);
  }
}

interface ConnectorPool {
  readonly pool: Pool;
  readonly address: string;
  /** Platform-clock ms when the host last resolved to `address` (among others). */
  resolvedAt: number;
}

interface PoolEntry {
  readonly version: string;
  readonly pool: Promise<ConnectorPool>;
  /** The lookup (and new pool) under way for this entry, shared by every call that needs one. */
  move?: Promise<ConnectorPool | undefined>;
}

interface PlatformPools {
  readonly current: Map<number, PoolEntry>;
  /** Pools left for another address or version, each with the check that ends it once nothing uses or waits for it. */
  readonly retired: Map<Pool, () => void>;
}

const poolsByPlatform = new WeakMap<Platform, PlatformPools>();

function poolsOf(platform: Platform): PlatformPools {
  let pools = poolsByPlatform.get(platform);
  if (!pools) {
    pools = { current: new Map(), retired: new Map() };
    poolsByPlatform.set(platform, pools);
  }
  return pools;
}

function entryFor(platform: Platform, connector: Connector): PoolEntry {
  const pools = poolsOf(platform);
  const { current } = pools;
  const existing = current.get(connector.id);
  if (existing?.version === connector.updatedAt) return existing;
  if (existing) void existing.pool.then((old) => retire(pools, old.pool), () => undefined);
  const entry: PoolEntry = { version: connector.updatedAt, pool: createPool(platform, connector) };
  current.set(connector.id, entry);
  entry.pool.catch(() => {
    if (current.get(connector.id) === entry) current.delete(connector.id);
  });
  return entry;
}

/**
 * Every `connectorDnsRecheckSeconds`, looks the host up again in the background: the call
 * goes ahead on the pool it has, and a later one gets the new pool if the name moved.
 */
function recheckIfDue(platform: Platform, connector: Connector, entry: PoolEntry, used: ConnectorPool): void {
  const now = platform.clock.now().getTime();
  if (now - used.resolvedAt < platform.config.connectorDnsRecheckSeconds * 1000) return;
  // Claimed before the lookup, so concurrent calls do not all resolve again.
  used.resolvedAt = now;
  // A new address that takes no connections yet leaves the pool in use as it is.
  movedPool(platform, connector, entry, used).catch(() => undefined);
}

/**
 * Resolves the host again; when it no longer gives the address in use, a pool to the
 * address it gives now is opened (its first connection proves it) and replaces the entry.
 * Undefined when nothing moved or the lookup failed: a pool to an address that was checked
 * stays usable through a DNS hiccup. Calls holding a replaced entry get its successor.
 */
function movedPool(platform: Platform, connector: Connector, entry: PoolEntry, used: ConnectorPool): Promise<ConnectorPool | undefined> {
  const pools = poolsOf(platform);
  const { current } = pools;
  const latest = current.get(connector.id);
  if (latest !== entry) return latest?.version === entry.version ? latest.pool : Promise.resolve(undefined);
  entry.move ??= (async () => {
    try {
      let destination: ResolvedDestination;
      try {
        destination = await resolve(platform, connector.postgres!.host);
      } catch {
        return undefined;
      }
      if (destination.addresses.includes(used.address)) {
        used.resolvedAt = platform.clock.now().getTime();
        return undefined;
      }
      const next = await createPool(platform, connector, destination);
      // Replaced meanwhile (the connector saved again), or the platform's pools closed.
      if (poolsByPlatform.get(platform) !== pools || current.get(connector.id) !== entry) {
        void next.pool.end().catch(() => undefined);
        return undefined;
      }
      current.set(connector.id, { version: entry.version, pool: Promise.resolve(next) });
      retire(pools, used.pool);
      return next;
    } finally {
      entry.move = undefined;
    }
  })();
  return entry.move;
}

/**
 * Ends a pool once no call holds one of its connections or waits for one: ending it at once
 * would leave its waiting calls unserved until their connect timeout (or for ever).
 */
function retire(pools: PlatformPools, pool: Pool): void {
  const endIfUnused = () => {
    if (pool.waitingCount > 0 || pool.totalCount > pool.idleCount) return;
    pool.off('release', later);
    pool.off('remove', later);
    pools.retired.delete(pool);
    void pool.end().catch(() => undefined);
  };
  // After the pool has handed the released connection to a waiting call, if any.
  const later = () => setImmediate(endIfUnused);
  pool.on('release', later);
  pool.on('remove', later);
  pools.retired.set(pool, later);
  endIfUnused();
}

async function createPool(platform: Platform, connector: Connector, resolved?: ResolvedDestination): Promise<ConnectorPool> {
  const settings = connector.postgres!;
  const target = { settings, password: await readPostgresPassword(platform, connector) };
  const destination = resolved ?? (await resolve(platform, settings.host));
  // Settle `prefer` once with a real handshake so every pooled connection uses the same mode.
  const { client, session } = await openClient(platform, target, destination);
  await client.end().catch(() => undefined);
  const pool = new Pool({ ...clientConfig(platform, target, destination, session.ssl), max: 3, idleTimeoutMillis: 30_000, allowExitOnIdle: true });
  // An idle connection dropped by the server: the next checkout reconnects.
  pool.on('error', () => undefined);
  // One dropped while in use: the query under way fails with it (an unheard 'error' would end the process).
  pool.on('connect', (connection) => connection.on('error', () => undefined));
  return { pool, address: destination.address, resolvedAt: platform.clock.now().getTime() };
}

/** Ends the connector pools of a platform (tests, and the local runtime on shutdown). */
export async function closeConnectorPools(platform: Platform): Promise<void> {
  const pools = poolsByPlatform.get(platform);
  if (!pools) return;
  poolsByPlatform.delete(platform);
  const ends = [...pools.current.values()].map((entry) => entry.pool.then((open) => open.pool.end()));
  ends.push(...[...pools.retired.keys()].map((pool) => pool.end()));
  await Promise.all(ends.map((end) => end.catch(() => undefined)));
}

async function resolve(platform: Platform, host: string): Promise<ResolvedDestination> {
  return resolveDestination(host, destinationPolicy(platform.config));
}

async function openClient(platform: Platform, target: PostgresTarget, destination: ResolvedDestination): Promise<{ client: Client; session: PostgresSession }> {
  const wantsSsl = target.settings.sslMode !== 'disable';
  try {
    return await connectOnce(platform, target, destination, wantsSsl);
  } catch (error) {
    const failure = postgresFailure(error, target.settings);
    if (target.settings.sslMode === 'prefer' && failure.connectorCode === 'SSL_NOT_SUPPORTED') {
      try {
        return await connectOnce(platform, target, destination, false);
      } catch (plainError) {
        throw postgresFailure(plainError, { ...target.settings, sslMode: 'disable' });
      }
    }
    throw failure;
  }
}

async function connectOnce(platform: Platform, target: PostgresTarget, destination: ResolvedDestination, ssl: boolean): Promise<{ client: Client; session: PostgresSession }> {
  const client = new Client(clientConfig(platform, target, destination, ssl));
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return { client, session: { ssl, address: destination.address } };
}

function clientConfig(platform: Platform, target: PostgresTarget, destination: ResolvedDestination, ssl: boolean): ClientConfig {
  const { settings } = target;
  return {
    host: destination.address,
    port: settings.port,
    database: settings.database,
    user: settings.user,
    password: target.password,
    connectionTimeoutMillis: platform.config.connectorConnectTimeoutMs,
    query_timeout: platform.config.connectorStatementTimeoutMs + 5_000,
    application_name: 'satellite',
    ssl: ssl ? sslOptions(settings, destination) : false,
  };
}

function sslOptions(settings: PostgresSettings, destination: ResolvedDestination): ClientConfig['ssl'] {
  if (settings.sslMode !== 'verify-full') return { rejectUnauthorized: false };
  // We connect to the resolved address; the certificate must still name the host the user gave.
  const hostIsName = destination.host !== destination.address && !/^[\d.:]+$/.test(destination.host);
  return {
    rejectUnauthorized: true,
    ...(settings.caCertificate ? { ca: settings.caCertificate } : {}),
    ...(hostIsName ? { servername: destination.host } : {}),
  };
}

interface DriverError {
  code?: string;
  message?: string;
}

const certificateErrors = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** Maps a connect failure to one connector error code (and a message of our own). */
export function postgresFailure(error: unknown, settings: Pick<PostgresSettings, 'host' | 'port' | 'database' | 'user' | 'sslMode'>): ConnectorFailed {
  if (error instanceof ConnectorFailed) return error;
  if (error instanceof AppError) return new ConnectorFailed(error.code === 'DNS_NOT_FOUND' ? 'DNS_NOT_FOUND' : 'DESTINATION_NOT_ALLOWED', error.message);
  const { code = '', message = '' } = (error ?? {}) as DriverError;
  const where = `${settings.host}:${settings.port}`;
  // The server's own answers first: their messages quote names (a database called
  // "timeout_db") that the driver-message patterns below would misread.
  if (code === '3D000') return new ConnectorFailed('DATABASE_NOT_FOUND', `the database ${JSON.stringify(settings.database)} does not exist`);
  if (code === '28000' && /no encryption/i.test(message)) {
    return new ConnectorFailed('SSL_REQUIRED', 'the server requires an SSL connection; use sslMode require or verify-full');
  }
  if (code === '28P01' || code === '28000') {
    return new ConnectorFailed('AUTHENTICATION_FAILED', `the server refused user ${JSON.stringify(settings.user)} with this password`);
  }
  if (code === '53300') return new ConnectorFailed('CONNECTION_REFUSED', `${where} has no free connections`);
  if (code === 'ECONNREFUSED') return new ConnectorFailed('CONNECTION_REFUSED', `nothing accepts connections at ${where}`);
  if (code === 'ETIMEDOUT' || /timeout/i.test(message)) return new ConnectorFailed('CONNECTION_TIMEOUT', `${where} did not answer in time`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new ConnectorFailed('HOST_UNREACHABLE', `no route to ${where}`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ConnectorFailed('DNS_NOT_FOUND', `the host ${settings.host} could not be resolved`);
  if (certificateErrors.has(code) || /certificate|self.signed/i.test(message)) {
    return new ConnectorFailed('CERTIFICATE_REJECTED', `the server's certificate was not accepted for ${settings.host} (check the CA certificate and the host name)`);
  }
  if (message === 'The server does not support SSL connections') {
    return new ConnectorFailed('SSL_NOT_SUPPORTED', `${where} does not support SSL; use sslMode disable (or prefer) to connect without it`);
  }
  if (code === 'ECONNRESET' || /terminated unexpectedly|Connection terminated/i.test(message)) {
    return new ConnectorFailed('CONNECTION_FAILED', `${where} closed the connection during the handshake`);
  }
  return new ConnectorFailed('CONNECTION_FAILED', `could not connect to ${where}`);
}

function isConnectionLoss(error: unknown): boolean {
  const { code = '', message = '' } = (error ?? {}) as DriverError;
  return code === 'ECONNRESET' || code === '57P01' || /Connection terminated|not queryable/i.test(message);
}

/** Query-time failures that a user can act on keep a connector code; others pass through. */
function mapQueryError(error: unknown): unknown {
  const { code = '', message = '' } = (error ?? {}) as DriverError;
  if (code === '57014' || /Query read timeout/.test(message)) return new ConnectorFailed('QUERY_TIMEOUT', 'the query took longer than the statement timeout');
  if (code === '25006') return new ConnectorFailed('READ_ONLY_DESTINATION', 'the database accepts no writes for this role or session');
  if (code === '42501') return new ConnectorFailed('PERMISSION_DENIED', 'the role lacks a privilege this operation needs');
  return error;
}

/* ------------------------------------------------------------------ BigQuery */

const BIGQUERY_SCOPE = 'https://www.googleapis.com/auth/bigquery';

export async function readServiceAccountKey(platform: Platform, connector: Connector): Promise<ServiceAccountKey> {
  return JSON.parse(await platform.secrets.get(connector.secretRef)) as ServiceAccountKey;
}

/** A BigQuery client for the connector's project, signed with its key from the secrets port. */
export async function bigQueryFor(platform: Platform, connector: Connector): Promise<BigQuery> {
  if (!connector.bigquery) throw new AppError('invalid', 'CONNECTOR_KIND_MISMATCH', 'this connector is not a BigQuery connector');
  return bigQueryClient(platform, await readServiceAccountKey(platform, connector), connector.bigquery.location);
}

export function bigQueryClient(platform: Platform, key: ServiceAccountKey, location?: string): BigQuery {
  const client = new BigQuery({
    projectId: key.project_id,
    credentials: { client_email: key.client_email, private_key: key.private_key },
    scopes: [BIGQUERY_SCOPE],
    // Node's own fetch: gaxios would otherwise load node-fetch through a dynamic import.
    clientOptions: { transporterOptions: { fetchImplementation: fetch } },
    ...(platform.config.bigQueryApiEndpoint ? { apiEndpoint: platform.config.bigQueryApiEndpoint } : {}),
    ...(location ? { location } : {}),
    maxRetries: 2,
  });
  // Self-signed JWT access (signed with the key on every request, as Google's client
  // libraries prefer for service accounts): no token exchange, and a deleted key is seen on
  // the first API call. It also lets the whole auth path run against BIGQUERY_API_ENDPOINT.
  client.authClient.useJWTAccessWithScope = true;
  return client;
}

interface GoogleApiError {
  code?: number | string;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  response?: { status?: number };
}

/** Maps a BigQuery API failure to a connector error code. */
export function bigQueryFailure(error: unknown, projectId: string): unknown {
  if (error instanceof AppError) return error;
  const { code, message = '', errors = [], response } = (error ?? {}) as GoogleApiError;
  const status = typeof code === 'number' ? code : response?.status;
  const reason = errors[0]?.reason ?? '';
  if (status === 401 || reason === 'authError' || /invalid_grant|invalid JWT|unauthenticated/i.test(message)) {
    return new ConnectorFailed('BIGQUERY_KEY_REVOKED', 'Google refused the service-account key (deleted, disabled or revoked)');
  }
  if (status === 403) return new ConnectorFailed('BIGQUERY_PERMISSION_DENIED', `the service account lacks a BigQuery permission on project ${projectId}`);
  if (status === 404 && /dataset/i.test(message) && !/project/i.test(message)) {
    return new ConnectorFailed('BIGQUERY_DATASET_NOT_FOUND', 'the dataset does not exist in this project');
  }
  if (status === 404 && /table/i.test(message)) return error;
  if (status === 404) return new ConnectorFailed('BIGQUERY_PROJECT_NOT_FOUND', `the project ${projectId} does not exist or is not visible to this key`);
  if (status === 400) return new ConnectorFailed('BIGQUERY_QUERY_FAILED', 'BigQuery rejected the query');
  if (typeof status === 'number' && status >= 500) return new ConnectorFailed('BIGQUERY_UNAVAILABLE', 'BigQuery is unavailable; try again later');
  if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|fetch failed/i.test(message)) return new ConnectorFailed('BIGQUERY_UNAVAILABLE', 'BigQuery could not be reached');
  return error;
}
