import { Pool, types } from 'pg';
import type { DatabaseSettings } from '../config';
import { logger } from '../logger';
import type { Secrets } from '../ports/secrets';

// bigint (int8) ids are returned as strings by default; ours stay far below 2^53.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));
// numeric stays a string: money must not lose precision on the way out.

interface DatabaseSecret {
  readonly username: string;
  readonly password: string;
}

export async function createPool(settings: DatabaseSettings, secrets: Secrets, max: number): Promise<Pool> {
  if (settings.kind === 'url') return survivingIdleErrors(new Pool({ connectionString: settings.url, max, idleTimeoutMillis: 10_000 }));
  const secret = JSON.parse(await secrets.get(settings.secretId)) as DatabaseSecret;
  // Lambdas reach RDS through RDS Proxy, which multiplexes these few connections.
  return survivingIdleErrors(new Pool({
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: secret.username,
    password: secret.password,
    ssl: { rejectUnauthorized: true },
    max,
    idleTimeoutMillis: 10_000,
  }));
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
