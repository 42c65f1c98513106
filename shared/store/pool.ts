import { Client, Pool, types } from 'pg';
import type { DatabaseSettings } from '../config';
import { logger } from '../logger';
import type { Secrets } from '../ports/secrets';
import { noTracing, type Tracing } from '../ports/tracing';

// bigint (int8) ids are returned as strings by default; ours stay far below 2^53.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));
// numeric stays a string: money must not lose precision on the way out.

export interface DatabaseSecret {
  readonly username: string;
  readonly password: string;
}

export async function createPool(settings: DatabaseSettings, secrets: Secrets, max: number, tracing: Tracing = noTracing): Promise<Pool> {
  if (settings.kind === 'url') return survivingIdleErrors(new Pool({ connectionString: settings.url, max, idleTimeoutMillis: 10_000 }));
  const credentials = rotatingCredentials(secrets, settings.secretId);
  const { username } = await credentials();
  // Lambdas reach RDS through RDS Proxy, which multiplexes these few connections.
  return survivingIdleErrors(
    new Pool({
      Client: tracing === noTracing ? UnnamedStatementsClient : tracedClient(UnnamedStatementsClient, tracing),
      host: settings.host,
      port: settings.port,
      database: settings.database,
      user: username,
      // Asked for each new connection: a warm function keeps connecting after a rotation.
      password: async () => (await credentials()).password,
      ssl: { rejectUnauthorized: true },
      max,
      idleTimeoutMillis: 10_000,
    }),
  );
}

/** How long a read of the database secret is trusted; a rotation is picked up within it. */
export const CREDENTIALS_TTL_MS = 60_000;

/**
 * The database credentials, read again once they are older than `CREDENTIALS_TTL_MS`: the
 * secret is rotated every 30 days, and a function instance can outlive a rotation.
 */
export function rotatingCredentials(secrets: Secrets, secretId: string, now: () => number = Date.now): () => Promise<DatabaseSecret> {
  let cached: { secret: DatabaseSecret; readAt: number } | undefined;
  return async () => {
    if (cached === undefined || now() - cached.readAt >= CREDENTIALS_TTL_MS) {
      cached = { secret: JSON.parse(await secrets.get(secretId)) as DatabaseSecret, readAt: now() };
    }
    return cached.secret;
  };
}

/**
 * RDS Proxy pins a client connection to one database connection for the rest of its life
 * once it sees a named (server-side prepared) statement, and pinned connections are what
 * exhaust the database when many Lambdas run. Behind the proxy every statement therefore
 * goes unnamed: planned each time, but multiplexed. A direct connection (the local
 * runtime, tests) keeps the names and their saved planning.
 */
export class UnnamedStatementsClient extends Client {
  override query(config: unknown, ...rest: unknown[]): never {
    const query = super.query.bind(this) as (...args: unknown[]) => never;
    return query(withoutName(config), ...rest);
  }
}

/**
 * A client whose every statement is traced, as a promise or with a callback (pg-pool calls
 * the latter). A submittable (cursor, COPY stream) reports its own end: it goes untraced.
 */
export function tracedClient(base: typeof Client, tracing: Tracing): typeof Client {
  return class TracedClient extends base {
    override query(config: unknown, ...rest: unknown[]): never {
      const query = super.query.bind(this) as (...args: unknown[]) => unknown;
      const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
      if (typeof text !== 'string' || (typeof config === 'object' && config !== null && 'submit' in config)) return query(config, ...rest) as never;
      const end = tracing.startDatabaseQuery(text);
      const callback = rest.at(-1);
      if (typeof callback === 'function') {
        rest[rest.length - 1] = (error: unknown, result: unknown) => {
          end(error ?? undefined);
          (callback as (error: unknown, result: unknown) => void)(error, result);
        };
        return query(config, ...rest) as never;
      }
      const result = query(config, ...rest) as Promise<unknown>;
      result.then(
        () => end(),
        (error: unknown) => end(error),
      );
      return result as never;
    }
  };
}

function withoutName(config: unknown): unknown {
  // A submittable (cursor, COPY stream) is passed through as it is.
  if (typeof config !== 'object' || config === null || !('name' in config) || 'submit' in config) return config;
  const unnamed: Record<string, unknown> = { ...config };
  delete unnamed.name;
  return unnamed;
}

/**
 * An idle pooled connection can be closed by the server (a failover, the proxy recycling
 * it, a restart). pg reports that as an 'error' event; unhandled, it would kill the
 * process. The pool already drops that client, so logging is all that is left to do.
 */
function survivingIdleErrors(pool: Pool): Pool {
  pool.on('error', (error) => logger.warn('idle database connection closed', { error: error.message }));
  return pool;
}
