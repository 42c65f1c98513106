/**
 * One sample of the contact-create cost through the whole local stack: a fresh stack, 2,000
 * warm-up creates, then two rounds of 8,000 creates (each a new external ID and email) from 8
 * clients on a pool of 4. Prints one JSON line: the stack's and PostgreSQL's CPU µs per call
 * of each round. `bench/alternate-contact-creates.ts` runs it in turns against an older tree.
 */
import { createAccount, issueApiKey } from '../shared/accounts/api-keys';
import { load } from './load';
import { startBenchStack } from './services';

const WARMUP = 2000;
const CREATES_PER_ROUND = 8000;
const ROUNDS = 2;

async function main(): Promise<void> {
  const stack = await startBenchStack({ RATE_LIMIT_PER_SECOND: '1000000', DB_POOL_SIZE: '4' });
  try {
    const accountId = await createAccount(stack.platform.db, 'bench');
    const { key } = await issueApiKey(stack.platform.db, accountId, { name: 'bench' });
    const authorization = `Basic ${Buffer.from(`bench:${key}`).toString('base64')}`;
    const bodyTemplate = JSON.stringify({
      externalCustomerId: 'bench-{i}',
      firstName: 'First {i}',
      channels: [{ type: 'email', value: 'bench{i}@example.com' }],
    });
    const creates = (requests: number, firstIndex: number) =>
      load({ url: `${stack.url}/api/v1/contact`, method: 'POST', authorization, requests, clients: 8, bodyTemplate, firstIndex });
    await creates(WARMUP, 1_000_000);
    const rounds: { stackUs?: number; postgresUs?: number }[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const figures = await creates(CREATES_PER_ROUND, round * CREATES_PER_ROUND);
      rounds.push({ stackUs: figures.stackCpuUsPerCall, postgresUs: figures.postgresCpuUsPerCall });
    }
    process.stdout.write(`${JSON.stringify(rounds)}\n`);
  } finally {
    await stack.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`contact-creates failed: ${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
