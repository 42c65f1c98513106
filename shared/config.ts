import { isIP } from 'node:net';
import { AppError } from './errors';

/**
 * Every setting the platform reads from the environment, read once when a function starts.
 * A missing required variable stops the function at start instead of failing later.
 */
export type QueueName = 'imports' | 'exports' | 'webhooks' | 'triggerEvents' | 'broadcasts' | 'emails' | 'emailEvents';

export const queueUrlVariables: Readonly<Record<QueueName, string>> = {
  imports: 'IMPORT_QUEUE_URL',
  exports: 'EXPORT_QUEUE_URL',
  webhooks: 'WEBHOOK_QUEUE_URL',
  triggerEvents: 'TRIGGER_EVENT_QUEUE_URL',
  broadcasts: 'BROADCAST_QUEUE_URL',
  emails: 'EMAIL_QUEUE_URL',
  emailEvents: 'EMAIL_EVENT_QUEUE_URL',
};

export type DatabaseSettings =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'secret'; readonly host: string; readonly port: number; readonly database: string; readonly secretId: string };

export interface PlatformConfig {
  readonly runtime: 'aws' | 'local';
  /** Production refuses loopback/private destinations for user-given hosts. */
  readonly production: boolean;
  readonly region: string;
  readonly database: DatabaseSettings;
  readonly databasePoolSize: number;
  readonly sqsEndpoint?: string;
  /** Only the queues this function may send to (each comes with its IAM grant in the stack). */
  readonly queueUrls: Readonly<Partial<Record<QueueName, string>>>;
  readonly secretsPrefix: string;
  /** Local runtime only: key that encrypts the local secret store. */
  readonly localSecretsKey?: string;
  readonly schedulerGroup?: string;
  readonly schedulerRoleArn?: string;
  readonly schedulerTargets: Readonly<Record<string, string>>;
  readonly publicBaseUrl: string;
  /** OAuth token lifetimes (seed 004: 172,800 s and 2,592,000 s by default). */
  readonly oauthAccessTokenSeconds: number;
  readonly oauthRefreshTokenSeconds: number;
  readonly maxBodyBytes: number;
  readonly rateLimitPerSecond: number;
  readonly webhookRetryBaseSeconds: number;
  /** Delivery attempts older than this are deleted by the hourly prune. */
  readonly webhookAttemptRetentionDays: number;
  /** One webhook request (verification GET or delivery POST) gives up after this long. */
  readonly webhookTimeoutMs: number;
  /** Rows per export chunk: one destination transaction each. */
  readonly exportChunkRows: number;
  /** An export job stops taking chunks when less than this much of its time is left, and re-enqueues its continuation. */
  readonly exportTimeReserveMs: number;
  /** Base of an export run's retry backoff (doubled per attempt, at most 15 minutes). */
  readonly exportRetryBaseSeconds: number;
  readonly exportMaxAttempts: number;
  /** A broadcast job stops taking pages when less than this much of its time is left, and re-enqueues its continuation. */
  readonly broadcastTimeReserveMs: number;
  readonly version: string;
  /** Overrides the BigQuery REST endpoint (tests point it at a local wire double). */
  readonly bigQueryApiEndpoint?: string;
  /** Bounds every query Satellite runs on a customer's BigQuery project. */
  readonly bigQueryMaximumBytesBilled: number;
  readonly connectorConnectTimeoutMs: number;
  readonly connectorStatementTimeoutMs: number;
  /**
   * How long a connector's pool keeps the address its host resolved to before resolving it
   * again: a database that fails over keeps its name and changes its address.
   */
  readonly connectorDnsRecheckSeconds: number;
  /** DNS servers that resolve user-given hosts instead of the system resolver (tests point it at a local DNS double). */
  readonly dnsServers?: readonly string[];
  readonly email: EmailConfig;
  readonly text: TextConfig;
}

/** How SMS and Viber leave: AWS End User Messaging SMS in the stack, the local text sink under `npm start`. */
export interface TextConfig {
  /** Overrides the End User Messaging SMS endpoint (the local sink, or a test's wire double). */
  readonly smsEndpoint?: string;
  /** The Viber provider's endpoint (the local sink's); none: Viber sends fail, saying so. */
  readonly viberEndpoint?: string;
  /** The sender IDs (origination identities) accounts may send from, the first the default (GET interfaces/sms). */
  readonly senders: readonly string[];
  /** The End User Messaging configuration set whose event destinations get delivery events. */
  readonly smsConfigurationSet?: string;
}

/** How the platform's own email channel works (an account may bring its own SMTP relay instead). */
export interface EmailConfig {
  /** The platform channel: Amazon SES in the stack, SMTP (the local sink) under `npm start`. */
  readonly channel: 'ses' | 'smtp';
  /** The platform SMTP channel's server, `smtp://host:port` (the local sink). */
  readonly smtpUrl?: string;
  /** Overrides the SES API endpoint (tests point it at a local wire double). */
  readonly sesEndpoint?: string;
  /** The configuration set whose event destination feeds the email events queue. */
  readonly sesConfigurationSet?: string;
  /** Sender of accounts that set none (the local runtime sets one; the stack leaves it to each account). */
  readonly defaultFrom?: string;
  /** Emails handed to the channel per second and account, unless the account sets its own. */
  readonly sendRatePerSecond: number;
  /** Tries of a send the channel refused for now; then it is UNDELIVERED (soft). */
  readonly maxAttempts: number;
  /** First retry delay, doubled per try (at most SQS's 15 minutes). */
  readonly retryBaseSeconds: number;
  /** Local runtime only: the SMTP sink's mailbox, behind GET /local/mailbox. */
  readonly localMailboxUrl?: string;
}

export class ConfigMissing extends AppError {
  constructor(variable: string) {
    super('unavailable', 'CONFIG_MISSING', `environment variable ${variable} is not set`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigMissing(name);
  return value;
}

function integer(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new AppError('unavailable', 'CONFIG_INVALID', `${name} must be a non-negative integer`);
  return value;
}

export function readConfig(env: Env = process.env): PlatformConfig {
  const runtime = env.SATELLITE_RUNTIME === 'local' ? 'local' : 'aws';
  const database: DatabaseSettings = env.DATABASE_URL
    ? { kind: 'url', url: env.DATABASE_URL }
    : {
        kind: 'secret',
        host: required(env, 'DB_HOST'),
        port: integer(env, 'DB_PORT', 5432),
        database: required(env, 'DB_NAME'),
        secretId: required(env, 'DB_SECRET_ARN'),
      };
  const queueUrls: Partial<Record<QueueName, string>> = {};
  for (const [name, variable] of Object.entries(queueUrlVariables) as [QueueName, string][]) {
    const url = env[variable];
    if (url) queueUrls[name] = url;
  }
  const schedulerTargets: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const match = /^SCHEDULE_TARGET_([A-Z_]+)$/.exec(key);
    if (match?.[1] && value) schedulerTargets[scheduleTargetName(match[1])] = value;
  }
  return {
    runtime,
    production: runtime === 'aws' ? env.SATELLITE_ALLOW_PRIVATE_HOSTS !== 'true' : env.SATELLITE_PRODUCTION === 'true',
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    database,
    databasePoolSize: integer(env, 'DB_POOL_SIZE', runtime === 'aws' ? 2 : 10),
    sqsEndpoint: env.SQS_ENDPOINT || undefined,
    queueUrls,
    secretsPrefix: env.SECRETS_PREFIX ?? 'satellite/',
    localSecretsKey: runtime === 'local' ? required(env, 'SATELLITE_SECRETS_KEY') : undefined,
    schedulerGroup: env.SCHEDULER_GROUP || undefined,
    schedulerRoleArn: env.SCHEDULER_ROLE_ARN || undefined,
    schedulerTargets,
    publicBaseUrl: env.PUBLIC_BASE_URL ?? 'http://127.0.0.1:3000',
    oauthAccessTokenSeconds: integer(env, 'OAUTH_ACCESS_TOKEN_SECONDS', 172_800),
    oauthRefreshTokenSeconds: integer(env, 'OAUTH_REFRESH_TOKEN_SECONDS', 2_592_000),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 6 * 1024 * 1024),
    rateLimitPerSecond: integer(env, 'RATE_LIMIT_PER_SECOND', 200),
    webhookRetryBaseSeconds: integer(env, 'WEBHOOK_RETRY_BASE_SECONDS', 60),
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000),
    webhookAttemptRetentionDays: Math.max(1, integer(env, 'WEBHOOK_ATTEMPT_RETENTION_DAYS', 30)),
    exportChunkRows: Math.max(1, integer(env, 'EXPORT_CHUNK_ROWS', 50_000)),
    exportTimeReserveMs: integer(env, 'EXPORT_TIME_RESERVE_MS', 120_000),
    exportRetryBaseSeconds: integer(env, 'EXPORT_RETRY_BASE_SECONDS', 60),
    exportMaxAttempts: Math.max(1, integer(env, 'EXPORT_MAX_ATTEMPTS', 5)),
    broadcastTimeReserveMs: integer(env, 'BROADCAST_TIME_RESERVE_MS', 60_000),
    version: env.SATELLITE_VERSION ?? '1.0.0',
    bigQueryApiEndpoint: env.BIGQUERY_API_ENDPOINT || undefined,
    bigQueryMaximumBytesBilled: integer(env, 'BIGQUERY_MAXIMUM_BYTES_BILLED', 10 * 1024 ** 3),
    connectorConnectTimeoutMs: integer(env, 'CONNECTOR_CONNECT_TIMEOUT_MS', 10_000),
    connectorStatementTimeoutMs: integer(env, 'CONNECTOR_STATEMENT_TIMEOUT_MS', 30_000),
    connectorDnsRecheckSeconds: integer(env, 'CONNECTOR_DNS_RECHECK_SECONDS', 30),
    dnsServers: dnsServers(env.DNS_SERVERS),
    email: {
      channel: (env.EMAIL_CHANNEL ?? (runtime === 'local' ? 'smtp' : 'ses')) === 'smtp' ? 'smtp' : 'ses',
      smtpUrl: env.SMTP_URL || undefined,
      sesEndpoint: env.SES_ENDPOINT || undefined,
      sesConfigurationSet: env.SES_CONFIGURATION_SET || undefined,
      defaultFrom: env.EMAIL_DEFAULT_FROM || undefined,
      sendRatePerSecond: Math.max(1, integer(env, 'EMAIL_SEND_RATE_PER_SECOND', 14)),
      maxAttempts: Math.max(1, integer(env, 'EMAIL_MAX_ATTEMPTS', 5)),
      retryBaseSeconds: integer(env, 'EMAIL_RETRY_BASE_SECONDS', 60),
      localMailboxUrl: runtime === 'local' ? env.LOCAL_MAILBOX_URL || undefined : undefined,
    },
    text: {
      smsEndpoint: env.SMS_API_ENDPOINT || undefined,
      viberEndpoint: env.VIBER_API_ENDPOINT || undefined,
      senders: (env.SMS_SENDER_IDS ?? (runtime === 'local' ? 'Satellite' : '')).split(',').map((sender) => sender.trim()).filter((sender) => sender !== ''),
      smsConfigurationSet: env.SMS_CONFIGURATION_SET || undefined,
    },
  };
}

/** `TRIGGER_EVENTS` ↔ `triggerEvents`: schedule target names in code vs. in the environment. */
export function scheduleTargetVariable(target: string): string {
  return `SCHEDULE_TARGET_${target.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
}

function scheduleTargetName(suffix: string): string {
  return suffix.toLowerCase().replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * `DNS_SERVERS`: comma-separated IP addresses, each with an optional port (`1.2.3.4:53`,
 * `[::1]:53`; a bare IPv6 address takes no port), checked here because `dns.setServers`
 * would fail every lookup later, or end the process, on a bad one.
 */
function dnsServers(raw: string | undefined): readonly string[] | undefined {
  const servers = (raw ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (servers.length === 0) return undefined;
  for (const server of servers) {
    const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(server);
    const withPort = /^([\d.]+):(\d{1,5})$/.exec(server);
    const [host, port, family] = bracketed ? [bracketed[1], bracketed[2], 6] : withPort ? [withPort[1], withPort[2], 4] : [server, undefined, isIP(server)];
    const portValid = port === undefined || (Number(port) >= 1 && Number(port) <= 65_535);
    if (family === 0 || isIP(host ?? '') !== family || !portValid) {
      throw new AppError('unavailable', 'CONFIG_INVALID', `DNS_SERVERS: ${JSON.stringify(server)} is not an IP address with an optional port (1–65535)`);
    }
  }
  return servers;
}
