import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../local/embedded-postgres';
import { startSqsServer } from '../local/sqs-server';
import { startLocalRuntime, type LocalRuntime } from '../local/stack';

export interface BenchStack extends LocalRuntime {
  /** Superuser URL for another database on the bench's PostgreSQL server. */
  readonly postgresUrlFor: (database: string) => string;
  close(): Promise<void>;
}

/** A throwaway local stack for one bench: its own embedded PostgreSQL and SQS server. */
export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  const base = mkdtempSync(path.join(tmpdir(), 'satellite-bench-'));
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(base, 'data'), persistent: false });
  const sqs = await startSqsServer();
  const stack = await startLocalRuntime({
    databaseUrl: postgres.socketUrlFor('postgres'),
    sqsEndpoint: sqs.endpoint,
    queuePrefix: 'bench-',
    port: 0,
    secretsKey: randomBytes(32).toString('base64url'),
    env,
  });
  return {
    ...stack,
    postgresUrlFor: (database: string) => postgres.urlFor(database),
    close: async () => {
      await stack.stop();
      await sqs.stop();
      await postgres.stop();
      rmSync(base, { recursive: true, force: true });
    },
  };
}
