/**
 * One sample of the contact-save cost through the whole local stack: a fresh stack, 2,000
 * warm-up creates, then two rounds of 8,000 creates (each a new external ID and email) and two
 * rounds of 8,000 updates (the same contacts sent again with a new first name, found by
 * external ID), from 8 clients on a pool of 4. Prints one JSON line: the stack's and
 * PostgreSQL's CPU µs per call of each round. `bench/alternate-contact-saves.ts` runs it in
 * turns against an older tree.
 */
import { createAccount, issueApiKey } from '../shared/accounts/api-keys';
import { load } from './load';
import { startBenchStack } from './services';

const WARMUP = 2000;
const CALLS_PER_ROUND = 8000;
const ROUNDS = 2;

export interface SaveSample {
  readonly kind: 'create' | 'update';
  readonly stackUs?: number;
  readonly postgresUs?: number;
}

async function main(): Promise<void> {
  const stack = await startBenchStack({ RATE_LIMIT_PER_SECOND: '1000000', DB_POOL_SIZE: '4' });
  try {
    const accountId = await createAccount(stack.platform.db, 'bench');
    const { key } = await issueApiKey(stack.platform.db, accountId, { name: 'bench' });
    const authorization = `Basic ${Buffer.from(`bench:${key}`).toString('base64')}`;
    const body = (firstName: string) =>
      JSON.stringify({
        externalCustomerId: 'bench-{i}',
        firstName,
        channels: [{ type: 'email', value: 'bench{i}@example.com' }],
      });
    const saves = (requests: number, firstIndex: number, bodyTemplate: string) =>
      load({ url: `${stack.url}/api/v1/contact`, method: 'POST', authorization, requests, clients: 8, bodyTemplate, firstIndex });
    await saves(WARMUP, 1_000_000, body('First {i}'));
    const samples: SaveSample[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const figures = await saves(CALLS_PER_ROUND, round * CALLS_PER_ROUND, body('First {i}'));
      samples.push({ kind: 'create', stackUs: figures.stackCpuUsPerCall, postgresUs: figures.postgresCpuUsPerCall });
    }
    for (let round = 0; round < ROUNDS; round += 1) {
      const figures = await saves(CALLS_PER_ROUND, round * CALLS_PER_ROUND, body('Renamed {i}'));
      samples.push({ kind: 'update', stackUs: figures.stackCpuUsPerCall, postgresUs: figures.postgresCpuUsPerCall });
    }
    process.stdout.write(`${JSON.stringify(samples)}\n`);
  } finally {
    await stack.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`contact-saves failed: ${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
