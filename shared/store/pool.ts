import { Pool, types } from 'pg';
import type { DatabaseSettings } from '../config';
import type { Secrets } from '../ports/secrets';

// bigint (int8) ids are returned as strings by default; ours stay far below 2^53.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));
// numeric stays a string: money must not lose precision on the way out.

interface DatabaseSecret {
  readonly username: string;
  readonly password: string;
}

export async function createPool(settings: DatabaseSettings, secrets: Secrets, max: number): Promise<Pool> {
  if (settings.kind === 'url') return new Pool({ connectionString: settings.url, max, idleTimeoutMillis: 10_000 });
  const secret = JSON.parse(await secrets.get(settings.secretId)) as DatabaseSecret;
  // Lambdas reach RDS through RDS Proxy, which multiplexes these few connections.
  return new Pool({
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: secret.username,
    password: secret.password,
    ssl: { rejectUnauthorized: true },
    max,
    idleTimeoutMillis: 10_000,
  });
}
