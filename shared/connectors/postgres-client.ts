import { Client, type ClientConfig } from 'pg';
import { AppError } from '../errors';
import { destinationPolicy, resolveDestination, type ResolvedDestination } from '../net/destination-guard';
import type { Platform } from '../platform';
import type { Connector } from './connector';
import { ConnectorFailed } from './errors';
import type { PostgresSettings } from './settings';

/*
 * A connection to a customer's PostgreSQL: resolving the host (guarded), the TLS handshake
 * (`prefer` settled by a real attempt), the session settings every piece of work runs under,
 * and one connector error code for each way connecting or querying can fail. Pools of these
 * connections for saved connectors are `postgres-pools.ts`.
 */

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

/** One unpooled connection for unsaved settings; closed when `work` ends. */
export async function withPostgresTarget<T>(
  platform: Platform,
  target: PostgresTarget,
  work: (client: Client, session: PostgresSession) => Promise<T>,
  options: PostgresWorkOptions = {},
): Promise<T> {
  const destination = await resolveHost(platform, target.settings.host);
  const { client, session } = await openClient(platform, target, destination);
  return runWork(
    platform,
    client,
    (connected) => work(connected, session),
    options,
    () => void client.end().catch(() => undefined),
  );
}

export interface PostgresSession {
  /** Whether TLS was negotiated (false after `prefer` fell back to plain TCP, or with `disable`). */
  readonly ssl: boolean;
  readonly address: string;
}

export async function runWork<C extends Client, T>(
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

/** The host's addresses, refused when internal and the platform is in production. */
export async function resolveHost(platform: Platform, host: string): Promise<ResolvedDestination> {
  return resolveDestination(host, destinationPolicy(platform.config));
}

export async function openClient(
  platform: Platform,
  target: PostgresTarget,
  destination: ResolvedDestination,
): Promise<{ client: Client; session: PostgresSession }> {
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

async function connectOnce(
  platform: Platform,
  target: PostgresTarget,
  destination: ResolvedDestination,
  ssl: boolean,
): Promise<{ client: Client; session: PostgresSession }> {
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

export function clientConfig(platform: Platform, target: PostgresTarget, destination: ResolvedDestination, ssl: boolean): ClientConfig {
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
export function postgresFailure(
  error: unknown,
  settings: Pick<PostgresSettings, 'host' | 'port' | 'database' | 'user' | 'sslMode'>,
): ConnectorFailed {
  if (error instanceof ConnectorFailed) return error;
  if (error instanceof AppError)
    return new ConnectorFailed(error.code === 'DNS_NOT_FOUND' ? 'DNS_NOT_FOUND' : 'DESTINATION_NOT_ALLOWED', error.message);
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
    return new ConnectorFailed(
      'CERTIFICATE_REJECTED',
      `the server's certificate was not accepted for ${settings.host} (check the CA certificate and the host name)`,
    );
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
  if (code === '57014' || /Query read timeout/.test(message))
    return new ConnectorFailed('QUERY_TIMEOUT', 'the query took longer than the statement timeout');
  if (code === '25006') return new ConnectorFailed('READ_ONLY_DESTINATION', 'the database accepts no writes for this role or session');
  if (code === '42501') return new ConnectorFailed('PERMISSION_DENIED', 'the role lacks a privilege this operation needs');
  return error;
}
