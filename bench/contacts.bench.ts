/**
 * Contacts on the local runtime, HTTP included: single add/update calls (each a new contact
 * with an external ID and an email) from concurrent clients, then one bulk add/update of
 * 3000 contacts through the imports queue and its consumer.
 */
import { performance } from 'node:perf_hooks';
import { createAccount, issueApiKey } from '../shared/accounts/api-keys';
import { startBenchStack } from './services';

const WARMUP = 300;
const SINGLE_UPSERTS = 6000;
const CLIENTS = 16;
const BULK_CONTACTS = 3000;

export async function run(): Promise<Record<string, number | string>> {
  const stack = await startBenchStack({ RATE_LIMIT_PER_SECOND: '1000000', DB_POOL_SIZE: '16' });
  try {
    const accountId = await createAccount(stack.platform.db, 'bench');
    const { key } = await issueApiKey(stack.platform.db, accountId, { name: 'bench' });
    const authorization = `Basic ${Buffer.from(`bench:${key}`).toString('base64')}`;
    const post = async (path: string, body: unknown): Promise<{ status: number; json: unknown }> => {
      const response = await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, json: await response.json() };
    };
    const contact = (index: number) => ({
      externalCustomerId: `bench-${index}`,
      firstName: `First ${index}`,
      channels: [{ type: 'email', value: `bench${index}@example.com` }],
    });

    await runClients(WARMUP, CLIENTS, async (index) => {
      await post('/api/v1/contact', contact(1_000_000 + index));
    });

    // The same clients on GET /api/v1/version: what HTTP, auth and the machine cost alone.
    const baselineStarted = performance.now();
    await runClients(2000, CLIENTS, async () => {
      const response = await fetch(`${stack.url}/api/v1/version`, { headers: { authorization } });
      await response.arrayBuffer();
    });
    const baselinePerSecond = Math.round(2000 / ((performance.now() - baselineStarted) / 1000));

    const latencies: number[] = [];
    let failures = 0;
    const started = performance.now();
    await runClients(SINGLE_UPSERTS, CLIENTS, async (index) => {
      const before = performance.now();
      const response = await post('/api/v1/contact', contact(index));
      latencies.push(performance.now() - before);
      if (response.status !== 200) failures += 1;
    });
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);

    const bulk = Array.from({ length: BULK_CONTACTS }, (_, index) => contact(2_000_000 + index));
    const bulkStarted = performance.now();
    const queued = await post('/api/v1/contacts', { contacts: bulk, dedupeOn: 'externalCustomerId' });
    const sessionId = (queued.json as { asyncSessionId: string }).asyncSessionId;
    let status = '';
    for (let attempt = 0; attempt < 6000 && status !== 'FINISHED' && status !== 'FAILED'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const response = await fetch(`${stack.url}/api/v1/importstatus/${sessionId}`, { headers: { authorization } });
      status = ((await response.json()) as { status: string }).status;
    }
    const bulkSeconds = (performance.now() - bulkStarted) / 1000;

    return {
      baseline_version_requests_per_second: baselinePerSecond,
      single_upserts: SINGLE_UPSERTS,
      clients: CLIENTS,
      single_upserts_per_second: Math.round(SINGLE_UPSERTS / seconds),
      single_p50_ms: round(percentile(latencies, 0.5)),
      single_p99_ms: round(percentile(latencies, 0.99)),
      single_failures: failures,
      bulk_contacts: BULK_CONTACTS,
      bulk_status: status,
      bulk_seconds: round(bulkSeconds),
      bulk_contacts_per_second: Math.round(BULK_CONTACTS / bulkSeconds),
    };
  } finally {
    await stack.close();
  }
}

async function runClients(total: number, clients: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const index = next;
        next += 1;
        await work(index);
      }
    }),
  );
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
