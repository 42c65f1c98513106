import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createAccount, issueApiKey } from '../../shared/accounts/api-keys';
import type { Right } from '../../shared/accounts/rights';
import type { Clock } from '../../shared/ports/clock';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { contractBreach } from './openapi-contract';
import { waitUntil } from './wait-until';

const TEMPLATE_DATABASE = 'satellite_template';

export interface TestAccount {
  readonly accountId: number;
  readonly apiKey: string;
  /** `Authorization` header value for this account's key. */
  readonly authorization: string;
}

export interface TestStack extends LocalStack {
  readonly database: TestDatabase;
  readonly databaseUrl: string;
  /** Superuser URL of another database on the same server (created on demand). */
  databaseUrlFor(name: string): string;
  createAccount(options?: { name?: string; rights?: Right }): Promise<TestAccount>;
  /** `fetch` against the stack's HTTP API with JSON in and out. */
  request(account: TestAccount | undefined, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  // The API's JSON answer, read freely by assertions (lint's any rules are off in test/).
  readonly body: any;
  readonly text: string;
}

export interface TestStackOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  readonly background?: boolean;
  /** A fixed port, for tests whose configuration must name the API's own URL (PUBLIC_BASE_URL). */
  readonly port?: number;
  /** Another SQS endpoint in front of the test server (a test's proxy that watches the calls). */
  readonly sqsEndpoint?: string;
  /**
   * A database the caller made and drops itself: the stack's `stop` leaves it. Stacks started
   * on it one after another are a restarted `npm start` (each has queues of its own, empty).
   */
  readonly database?: TestDatabase;
}

export type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

function servicesUrl(): string {
  const url = process.env.SATELLITE_TEST_POSTGRES_URL;
  if (!url) throw new Error('test services are not running (jest globalSetup)');
  return url;
}

/** A fresh database cloned from the migrated template, on the shared test server. */
export async function createTestDatabase(prefix = 't'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const admin = new Pool({ connectionString: servicesUrl(), max: 1 });
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
      break;
    } catch (error) {
      // Two workers cloning the template at the same moment: the second waits its turn.
      if (attempt > 50 || !String(error).includes('is being accessed by other users')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await admin.end();
  const url = withDatabase(servicesUrl(), name);
  return {
    name,
    url,
    drop: async () => {
      const pool = new Pool({ connectionString: servicesUrl(), max: 1 });
      // A pool's end() resolves before its connections have closed: forcing them out then would
      // reach a client still closing, which reports the termination as an unhandled error.
      await waitUntil(
        async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name])).rows[0]!.n === 0,
        `the last session of ${name} closing`,
        2_000,
      ).catch(() => undefined);
      await pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await pool.end();
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The local stack on its own database and queues, for one test file. */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const database = options.database ?? (await createTestDatabase());
  const sqsEndpoint = options.sqsEndpoint ?? process.env.SATELLITE_TEST_SQS_ENDPOINT;
  if (!sqsEndpoint) throw new Error('test services are not running (jest globalSetup)');
  const stack = await startLocalStack({
    databaseUrl: database.url,
    sqsEndpoint,
    queuePrefix: `${database.name}-${randomBytes(4).toString('hex')}-`,
    port: options.port ?? 0,
    secretsKey: randomBytes(32).toString('base64url'),
    env: options.env,
    clock: options.clock,
    background: options.background,
  });
  let accounts = 0;
  return {
    ...stack,
    databaseUrl: database.url,
    databaseUrlFor: (name) => withDatabase(servicesUrl(), name),
    createAccount: async (accountOptions = {}) => {
      accounts += 1;
      const accountId = await createAccount(stack.platform.db, accountOptions.name ?? `Account ${accounts}`);
      const { key } = await issueApiKey(stack.platform.db, accountId, { name: 'test', rights: accountOptions.rights });
      return { accountId, apiKey: key, authorization: `Basic ${Buffer.from(`test:${key}`).toString('base64')}` };
    },
    request: async (account, method, path, body, headers = {}) => {
      const response = await fetch(`${stack.url}${path}`, {
        method,
        headers: {
          ...(account ? { authorization: account.authorization } : {}),
          ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      // Every answer the suite receives is held to the OpenAPI document: the contract cannot drift from the code.
      const breach = contractBreach(method, path, { status: response.status, contentType: response.headers.get('content-type'), text });
      if (breach) throw new Error(`answer breaks the OpenAPI document: ${breach}`);
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
    database,
    stop: async () => {
      await stack.stop();
      if (!options.database) await database.drop();
    },
  };
}
