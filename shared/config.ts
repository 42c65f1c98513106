import { isIP } from 'node:net';
import * as z from 'zod';
import { AppError } from './errors';
import { connectionBudget, type QueueName } from './topology';

/**
 * Every setting the platform reads from the environment, read once when a function starts.
 * A missing required variable stops the function at start instead of failing later.
 */
export const queueUrlVariables: Readonly<Record<QueueName, string>> = {
  imports: 'IMPORT_QUEUE_URL',
  exports: 'EXPORT_QUEUE_URL',
  webhooks: 'WEBHOOK_QUEUE_URL',
  triggerEvents: 'TRIGGER_EVENT_QUEUE_URL',
  broadcasts: 'BROADCAST_QUEUE_URL',
  emails: 'EMAIL_QUEUE_URL',
  emailEvents: 'EMAIL_EVENT_QUEUE_URL',
  texts: 'TEXT_QUEUE_URL',
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
  /** The migrate function only: the application user's secret, whose password it sets on the role. */
  readonly appDatabaseSecretId?: string;
  /** The migrate function only: the migrator user's secret, the login that runs the DDL. */
  readonly migratorDatabaseSecretId?: string;
  readonly sqsEndpoint?: string;
  /** Only the queues this function may send to (each comes with its IAM grant in the stack). */
  readonly queueUrls: Readonly<Partial<Record<QueueName, string>>>;
  /** Where new connector secrets are named; only functions that save them are given it. */
  readonly secretsPrefix?: string;
  /** Local runtime only: key that encrypts the local secret store. */
  readonly localSecretsKey?: string;
  readonly schedulerGroup?: string;
  readonly schedulerRoleArn?: string;
  readonly schedulerTargets: Readonly<Record<string, string>>;
  /** Read through `publicBaseUrlOf`: only the API function is given it. */
  readonly publicBaseUrl?: string;
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
  /** CPU time one template render (its parse included) may take before it fails TEMPLATE_LIMIT_EXCEEDED (render-clock.ts). */
  readonly templateRenderMs: number;
  /** Heap of one template render thread; a render that needs more fails TEMPLATE_LIMIT_EXCEEDED (read when the process starts its first render thread). */
  readonly templateRenderHeapMb: number;
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

export class ConfigInvalid extends AppError {
  constructor(variable: string, problem: string) {
    super('unavailable', 'CONFIG_INVALID', `environment variable ${variable} ${problem}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const required = z.string({ error: 'is not set' });
const optional = z.string().optional();
/** Default of `TEMPLATE_RENDER_HEAP_MB`: the old-generation heap of one render thread (templates/limits.ts). */
export const DEFAULT_RENDER_HEAP_MB = 128;

/** Default of `TEMPLATE_RENDER_MS`: the CPU time one render (parse included) may take (templates/render-clock.ts). */
export const DEFAULT_TEMPLATE_RENDER_MS = 1_000;

/** A whole number of at least `min`, `fallback` when unset. */
const wholeNumber = (fallback: number, min = 0) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`))
    .default(fallback);

/** Every variable the platform reads, with its rule; unset and empty are the same. */
const common = {
  SATELLITE_RUNTIME: z.enum(['aws', 'local']).default('aws'),
  SATELLITE_ALLOW_PRIVATE_HOSTS: optional,
  SATELLITE_PRODUCTION: optional,
  DATABASE_URL: optional,
  DB_APP_SECRET_ARN: optional,
  DB_MIGRATOR_SECRET_ARN: optional,
  DB_PORT: wholeNumber(5432, 1),
  DB_POOL_SIZE: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().min(1, 'must be at least 1')).optional(),
  SQS_ENDPOINT: optional,
  SCHEDULER_GROUP: optional,
  SCHEDULER_ROLE_ARN: optional,
  PUBLIC_BASE_URL: z.url({ error: 'must be a URL' }).optional(),
  OAUTH_ACCESS_TOKEN_SECONDS: wholeNumber(172_800, 1),
  OAUTH_REFRESH_TOKEN_SECONDS: wholeNumber(2_592_000, 1),
  MAX_BODY_BYTES: wholeNumber(6 * 1024 * 1024, 1),
  RATE_LIMIT_PER_SECOND: wholeNumber(200),
  WEBHOOK_RETRY_BASE_SECONDS: wholeNumber(60),
  WEBHOOK_TIMEOUT_MS: wholeNumber(10_000),
  WEBHOOK_ATTEMPT_RETENTION_DAYS: wholeNumber(30, 1),
  EXPORT_CHUNK_ROWS: wholeNumber(50_000, 1),
  EXPORT_TIME_RESERVE_MS: wholeNumber(120_000),
  EXPORT_RETRY_BASE_SECONDS: wholeNumber(60),
  EXPORT_MAX_ATTEMPTS: wholeNumber(5, 1),
  BROADCAST_TIME_RESERVE_MS: wholeNumber(60_000),
  TEMPLATE_RENDER_MS: wholeNumber(DEFAULT_TEMPLATE_RENDER_MS, 1),
  TEMPLATE_RENDER_HEAP_MB: wholeNumber(DEFAULT_RENDER_HEAP_MB, 8),
  SATELLITE_VERSION: z.string().default('1.0.0'),
  BIGQUERY_API_ENDPOINT: optional,
  BIGQUERY_MAXIMUM_BYTES_BILLED: wholeNumber(10 * 1024 ** 3),
  CONNECTOR_CONNECT_TIMEOUT_MS: wholeNumber(10_000),
  CONNECTOR_STATEMENT_TIMEOUT_MS: wholeNumber(30_000),
  CONNECTOR_DNS_RECHECK_SECONDS: wholeNumber(30),
  DNS_SERVERS: optional,
  EMAIL_CHANNEL: z.enum(['smtp', 'ses']).optional(),
  SMTP_URL: optional,
  SES_ENDPOINT: optional,
  SES_CONFIGURATION_SET: optional,
  EMAIL_DEFAULT_FROM: optional,
  EMAIL_SEND_RATE_PER_SECOND: wholeNumber(14, 1),
  EMAIL_MAX_ATTEMPTS: wholeNumber(5, 1),
  EMAIL_RETRY_BASE_SECONDS: wholeNumber(60),
  LOCAL_MAILBOX_URL: optional,
  SMS_API_ENDPOINT: optional,
  VIBER_API_ENDPOINT: optional,
  SMS_SENDER_IDS: optional,
  SMS_CONFIGURATION_SET: optional,
};

/**
 * On AWS every value comes from the stack (a `bind*` helper sets it with its grant): none
 * falls back to a value that only makes sense on this machine.
 */
const awsSettings = z.object({
  ...common,
  AWS_REGION: required,
  DB_HOST: optional,
  DB_NAME: optional,
  DB_SECRET_ARN: optional,
  // Only functions that save connector secrets are given it (and the grant for it).
  SECRETS_PREFIX: optional,
});

/** The local runtime sets its own values (`local/stack.ts`); only the secrets key has no default. */
const localSettings = z.object({
  ...common,
  AWS_REGION: z.string().default('us-east-1'),
  DATABASE_URL: required,
  SECRETS_PREFIX: z.string().default('satellite/'),
  SATELLITE_SECRETS_KEY: required,
});

/**
 * Reads and checks every variable at once; the first bad one stops the function at start,
 * named in the error (`CONFIG_MISSING` / `CONFIG_INVALID`), instead of failing a request later.
 */
export function readConfig(rawEnv: Env = process.env): PlatformConfig {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(rawEnv)) if (value !== undefined && value !== '') env[name] = value;
  env.AWS_REGION ??= env.AWS_DEFAULT_REGION ?? '';
  if (env.AWS_REGION === '') delete env.AWS_REGION;
  const runtime = env.SATELLITE_RUNTIME === 'local' ? 'local' : 'aws';
  const parsed = (runtime === 'local' ? localSettings : awsSettings).safeParse(env);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const variable = String(issue?.path[0] ?? 'configuration');
    if (env[variable] === undefined) throw new ConfigMissing(variable);
    throw new ConfigInvalid(variable, issue?.message ?? 'is invalid');
  }
  const settings = parsed.data;
  const database: DatabaseSettings = settings.DATABASE_URL
    ? { kind: 'url', url: settings.DATABASE_URL }
    : {
        kind: 'secret',
        host: present(settings, 'DB_HOST'),
        port: settings.DB_PORT,
        database: present(settings, 'DB_NAME'),
        secretId: present(settings, 'DB_SECRET_ARN'),
      };
  const queueUrls: Partial<Record<QueueName, string>> = {};
  for (const [name, variable] of Object.entries(queueUrlVariables) as [QueueName, string][]) {
    const url = env[variable];
    if (url) queueUrls[name] = url;
  }
  const schedulerTargets: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const match = /^SCHEDULE_TARGET_([A-Z_]+)$/.exec(key);
    if (match?.[1]) schedulerTargets[scheduleTargetName(match[1])] = value;
  }
  return {
    runtime,
    production: runtime === 'aws' ? settings.SATELLITE_ALLOW_PRIVATE_HOSTS !== 'true' : settings.SATELLITE_PRODUCTION === 'true',
    region: settings.AWS_REGION,
    database,
    appDatabaseSecretId: settings.DB_APP_SECRET_ARN,
    migratorDatabaseSecretId: settings.DB_MIGRATOR_SECRET_ARN,
    databasePoolSize: settings.DB_POOL_SIZE ?? (runtime === 'aws' ? connectionBudget.poolSize : 10),
    sqsEndpoint: settings.SQS_ENDPOINT,
    queueUrls,
    secretsPrefix: settings.SECRETS_PREFIX,
    localSecretsKey: 'SATELLITE_SECRETS_KEY' in settings ? settings.SATELLITE_SECRETS_KEY : undefined,
    schedulerGroup: settings.SCHEDULER_GROUP,
    schedulerRoleArn: settings.SCHEDULER_ROLE_ARN,
    schedulerTargets,
    publicBaseUrl: settings.PUBLIC_BASE_URL,
    oauthAccessTokenSeconds: settings.OAUTH_ACCESS_TOKEN_SECONDS,
    oauthRefreshTokenSeconds: settings.OAUTH_REFRESH_TOKEN_SECONDS,
    maxBodyBytes: settings.MAX_BODY_BYTES,
    rateLimitPerSecond: settings.RATE_LIMIT_PER_SECOND,
    webhookRetryBaseSeconds: settings.WEBHOOK_RETRY_BASE_SECONDS,
    webhookTimeoutMs: settings.WEBHOOK_TIMEOUT_MS,
    webhookAttemptRetentionDays: settings.WEBHOOK_ATTEMPT_RETENTION_DAYS,
    exportChunkRows: settings.EXPORT_CHUNK_ROWS,
    exportTimeReserveMs: settings.EXPORT_TIME_RESERVE_MS,
    exportRetryBaseSeconds: settings.EXPORT_RETRY_BASE_SECONDS,
    exportMaxAttempts: settings.EXPORT_MAX_ATTEMPTS,
    broadcastTimeReserveMs: settings.BROADCAST_TIME_RESERVE_MS,
    templateRenderMs: settings.TEMPLATE_RENDER_MS,
    templateRenderHeapMb: settings.TEMPLATE_RENDER_HEAP_MB,
    version: settings.SATELLITE_VERSION,
    bigQueryApiEndpoint: settings.BIGQUERY_API_ENDPOINT,
    bigQueryMaximumBytesBilled: settings.BIGQUERY_MAXIMUM_BYTES_BILLED,
    connectorConnectTimeoutMs: settings.CONNECTOR_CONNECT_TIMEOUT_MS,
    connectorStatementTimeoutMs: settings.CONNECTOR_STATEMENT_TIMEOUT_MS,
    connectorDnsRecheckSeconds: settings.CONNECTOR_DNS_RECHECK_SECONDS,
    dnsServers: dnsServers(settings.DNS_SERVERS),
    email: {
      channel: (settings.EMAIL_CHANNEL ?? (runtime === 'local' ? 'smtp' : 'ses')) === 'smtp' ? 'smtp' : 'ses',
      smtpUrl: settings.SMTP_URL,
      sesEndpoint: settings.SES_ENDPOINT,
      sesConfigurationSet: settings.SES_CONFIGURATION_SET,
      defaultFrom: settings.EMAIL_DEFAULT_FROM,
      sendRatePerSecond: settings.EMAIL_SEND_RATE_PER_SECOND,
      maxAttempts: settings.EMAIL_MAX_ATTEMPTS,
      retryBaseSeconds: settings.EMAIL_RETRY_BASE_SECONDS,
      localMailboxUrl: runtime === 'local' ? settings.LOCAL_MAILBOX_URL : undefined,
    },
    text: {
      smsEndpoint: settings.SMS_API_ENDPOINT,
      viberEndpoint: settings.VIBER_API_ENDPOINT,
      senders: (settings.SMS_SENDER_IDS ?? (runtime === 'local' ? 'Satellite' : ''))
        .split(',')
        .map((sender) => sender.trim())
        .filter((sender) => sender !== ''),
      smsConfigurationSet: settings.SMS_CONFIGURATION_SET,
    },
  };
}

/** A variable the stack sets on every function that reaches the database (`bindDatabase`). */
function present(settings: Readonly<Record<string, unknown>>, variable: string): string {
  const value = settings[variable];
  if (typeof value !== 'string') throw new ConfigMissing(variable);
  return value;
}

/** The API's own public URL (the OAuth issuer): the stack gives it to the API function, the local runtime sets it. */
export function publicBaseUrlOf(config: PlatformConfig): string {
  if (config.publicBaseUrl === undefined) throw new ConfigMissing('PUBLIC_BASE_URL');
  return config.publicBaseUrl;
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
  const servers = (raw ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (servers.length === 0) return undefined;
  for (const server of servers) {
    const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(server);
    const withPort = /^([\d.]+):(\d{1,5})$/.exec(server);
    const [host, port, family] = bracketed
      ? [bracketed[1], bracketed[2], 6]
      : withPort
        ? [withPort[1], withPort[2], 4]
        : [server, undefined, isIP(server)];
    const portValid = port === undefined || (Number(port) >= 1 && Number(port) <= 65_535);
    if (family === 0 || isIP(host ?? '') !== family || !portValid) {
      throw new ConfigInvalid('DNS_SERVERS', `holds ${JSON.stringify(server)}, not an IP address with an optional port (1–65535)`);
    }
  }
  return servers;
}
