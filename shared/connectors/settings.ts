import { createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import * as z from 'zod';
import { ValidationFailed } from '../errors';

/**
 * What a user sends to create or check a connector, validated at the edge. The password
 * and the service-account key are credentials: they go to the secrets port and nowhere else.
 */

/** libpq's names. `prefer` tries TLS and falls back to plain TCP (then warns NOT_SSL). */
export const sslModes = ['disable', 'prefer', 'require', 'verify-full'] as const;
export type SslMode = (typeof sslModes)[number];

/** PostgreSQL's own default schema, and a PostgreSQL connector's unless it names another. */
export const DEFAULT_POSTGRES_SCHEMA = 'public';

/** The contact field a source's key column matches: a channel, an id, or an additional field (`field:<id>`). */
export type ContactKeyField = 'email' | 'sms' | 'externalCustomerId' | 'contactId' | `field:${number}`;

const contactKeyField = z
  .string()
  .transform((value) => (value === 'phone' ? 'sms' : value))
  .refine((value) => /^(email|sms|externalCustomerId|contactId|field:[1-9]\d{0,17})$/.test(value), {
    message: 'one of email, sms (phone), externalCustomerId, contactId or field:<additional field id>',
  })
  .transform((value) => value as ContactKeyField);

export const uniqueKeySchema = z.object({
  column: z.string().trim().min(1).max(300),
  contactField: contactKeyField,
});
export type UniqueKey = z.output<typeof uniqueKeySchema>;

const hostnamePattern = /^(?=.{1,253}$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*\.?$/;
const host = z
  .string()
  .trim()
  .refine((value) => isIP(value.replace(/^\[|\]$/g, '')) !== 0 || hostnamePattern.test(value), { message: 'a domain name or an IP address' });

const name = z.string().trim().min(1).max(200);

const postgresFields = {
  host,
  port: z.number().int().min(1).max(65_535).default(5432),
  database: z.string().min(1).max(63),
  user: z.string().min(1).max(63),
  sslMode: z.enum(sslModes).default('prefer'),
  /**
   * The schema this connector works in (seed 000: "public by default; you may choose another if
   * you set it in the PostgreSQL settings"): what exports write to and data sources browse first.
   */
  schema: z.string().trim().min(1).max(63).default(DEFAULT_POSTGRES_SCHEMA),
  /** PEM of the CA that signed the server's certificate (verify-full only). */
  caCertificate: z
    .string()
    .max(64 * 1024)
    .includes('-----BEGIN CERTIFICATE-----')
    .optional(),
};

function caOnlyWithVerifyFull(value: { sslMode: SslMode; caCertificate?: string | undefined }, context: z.core.$RefinementCtx): void {
  if (value.caCertificate && value.sslMode !== 'verify-full') {
    context.addIssue({ code: 'custom', path: ['caCertificate'], message: 'a CA certificate is only used with sslMode verify-full' });
  }
}

/** A PUT may carry the connector's `id`, as GET shows it; it must be the path's. */
const viewId = z.number().int().positive().optional();

function postgresSchema(required: { name: boolean; password: boolean; uniqueKey: boolean; id?: boolean }) {
  return z
    .object({
      ...(required.id ? { id: viewId } : {}),
      kind: z.literal('postgres'),
      ...postgresFields,
      name: required.name ? name : name.optional(),
      uniqueKey: required.uniqueKey ? uniqueKeySchema : uniqueKeySchema.optional(),
      password: required.password ? z.string().min(1).max(1024) : z.string().min(1).max(1024).optional(),
    })
    .strict()
    .superRefine(caOnlyWithVerifyFull);
}

function bigQuerySchema(required: { name: boolean; key: boolean; uniqueKey: boolean; id?: boolean }) {
  const key = z.union([z.string().max(64 * 1024), z.record(z.string(), z.unknown())]);
  return z
    .object({
      ...(required.id ? { id: viewId } : {}),
      kind: z.literal('bigquery'),
      name: required.name ? name : name.optional(),
      /** The service-account key file: as uploaded (a JSON string) or already parsed. */
      key: required.key ? key : key.optional(),
      /** Where queries run (`US`, `EU`, `europe-west1` …); BigQuery's default when omitted. */
      location: z.string().trim().min(1).max(64).optional(),
      uniqueKey: required.uniqueKey ? uniqueKeySchema : uniqueKeySchema.optional(),
    })
    .strict();
}

export const postgresConnectorInput = postgresSchema({ name: true, password: true, uniqueKey: true });
export const bigQueryConnectorInput = bigQuerySchema({ name: true, key: true, uniqueKey: true });

const connectorInputSchema = z.discriminatedUnion('kind', [postgresConnectorInput, bigQueryConnectorInput]);
export type ConnectorInput = z.output<typeof connectorInputSchema> & { readonly name: string; readonly uniqueKey: UniqueKey };
// The builders above lose which fields are required; these are, by construction.
export const connectorInput = connectorInputSchema as unknown as z.ZodType<ConnectorInput>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What GET shows but no one sets: the timestamps, and BigQuery's project and account, which come from the key. */
const readOnlyInView = new Set(['createdAt', 'updatedAt', 'projectId', 'clientEmail']);

/**
 * PUT takes what GET answers, so a client can read a connector, change a field and send it
 * back: the settings GET nests under `postgres` (or `bigquery`) are lifted to the top level,
 * where they may also be sent flat as before; the view's read-only fields are ignored. A
 * setting given both ways with two different values is refused, naming the nested one.
 */
function liftedView(value: unknown, context: z.core.$RefinementCtx): unknown {
  if (!isPlainObject(value)) return value;
  const lifted: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) if (!readOnlyInView.has(name)) lifted[name] = item;
  const section = value.kind === 'postgres' || value.kind === 'bigquery' ? value.kind : undefined;
  const nested = section === undefined ? undefined : value[section];
  if (section === undefined || !isPlainObject(nested)) return lifted;
  delete lifted[section];
  for (const [name, item] of Object.entries(nested)) {
    if (readOnlyInView.has(name)) continue;
    if (name in lifted && lifted[name] !== item) {
      context.addIssue({ code: 'custom', path: [section, name], message: `${name} is given here and at the top level with different values` });
      continue;
    }
    lifted[name] = item;
  }
  return lifted;
}

/** Updates keep the stored credential when none is sent, and take GET's shape as well as the flat one. */
const connectorUpdateSchema = z
  .preprocess(
    liftedView,
    z.discriminatedUnion('kind', [
      postgresSchema({ name: true, password: false, uniqueKey: true, id: true }),
      bigQuerySchema({ name: true, key: false, uniqueKey: true, id: true }),
    ]),
    // JSON Schema shows the flat shape (what the preprocess yields); this says the other is taken too.
  )
  .describe('The flat shape below, or the connector as GET answers it: settings nested under `postgres`/`bigquery`, read-only fields ignored.');
export type ConnectorUpdate = z.output<typeof connectorUpdateSchema> & { readonly name: string; readonly uniqueKey: UniqueKey; readonly id?: number };
export const connectorUpdate = connectorUpdateSchema as unknown as z.ZodType<ConnectorUpdate>;

/** "Check connection" happens before the connector has a name or a unique key. */
export const connectorCheckInput = z.discriminatedUnion('kind', [
  postgresSchema({ name: false, password: true, uniqueKey: false }),
  bigQuerySchema({ name: false, key: true, uniqueKey: false }),
]);
export type ConnectorCheckInput = z.output<typeof connectorCheckInput>;

export interface PostgresSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly sslMode: SslMode;
  readonly schema: string;
  readonly caCertificate?: string;
}

export interface BigQuerySettings {
  readonly projectId: string;
  readonly clientEmail: string;
  readonly location?: string;
}

export interface ServiceAccountKey {
  readonly type: 'service_account';
  readonly project_id: string;
  readonly client_email: string;
  readonly private_key: string;
  readonly private_key_id?: string;
  readonly token_uri?: string;
}

const serviceAccountKey = z.looseObject({
  type: z.literal('service_account'),
  project_id: z.string().regex(/^[a-z][a-z0-9-]{4,61}[a-z0-9]$|^[a-z0-9.-]+:[a-z][a-z0-9-]{4,61}[a-z0-9]$/, 'a Google Cloud project id'),
  client_email: z.email(),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().optional(),
  token_uri: z.url().optional(),
});

/** Checks that the uploaded file is a service-account key we can sign with. */
export function parseServiceAccountKey(input: string | Record<string, unknown>): ServiceAccountKey {
  let candidate: unknown = input;
  if (typeof input === 'string') {
    try {
      candidate = JSON.parse(input);
    } catch {
      throw keyMalformed([{ message: 'the key file is not JSON' }]);
    }
  }
  const parsed = serviceAccountKey.safeParse(candidate);
  if (!parsed.success) {
    throw keyMalformed(parsed.error.issues.map((issue) => ({ path: ['key', ...issue.path.map(String)].join('.'), message: issue.message })));
  }
  try {
    createPrivateKey(parsed.data.private_key);
  } catch {
    throw keyMalformed([{ path: 'key.private_key', message: 'the private key cannot be read' }]);
  }
  return parsed.data;
}

function keyMalformed(details: { path?: string; message: string }[]): ValidationFailed {
  return new ValidationFailed(
    'the service-account key must be a JSON key with type, project_id, client_email and private_key',
    details,
    'BIGQUERY_KEY_MALFORMED',
  );
}

/** The connection settings of a PostgreSQL connector, as stored: everything but the password. */
export function postgresSettingsOf(input: {
  host: string;
  port: number;
  database: string;
  user: string;
  sslMode: SslMode;
  schema: string;
  caCertificate?: string | undefined;
}): PostgresSettings {
  return {
    host: input.host,
    port: input.port,
    database: input.database,
    user: input.user,
    sslMode: input.sslMode,
    schema: input.schema,
    ...(input.caCertificate ? { caCertificate: input.caCertificate } : {}),
  };
}
