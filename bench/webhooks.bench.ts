/**
 * Activity webhooks: delivered activities per second to a healthy local receiver, and the
 * latency from an activity's recording transaction committing to its POST arriving.
 */
import { createServer } from 'node:http';
import { createAccount, issueApiKey } from '../shared/accounts/api-keys';
import { withTransaction } from '../shared/store/transaction';
import { publishRecordedActivities, relayWebhookOutbox } from '../shared/webhooks/outbox';
import { startBenchStack } from './services';

const ACCOUNTS = 4;
const TRANSACTIONS_PER_ACCOUNT = 5;
const ACTIVITIES_PER_TRANSACTION = 50;

export async function run(): Promise<Record<string, number | string>> {
  const stack = await startBenchStack();
  const arrivals = new Map<string, number>();
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const now = performance.now();
      if (request.method === 'POST') for (const activity of JSON.parse(Buffer.concat(chunks).toString('utf8')) as { iid: string }[]) arrivals.set(activity.iid, now);
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hooks`;
  try {
    const accounts: number[] = [];
    for (let index = 0; index < ACCOUNTS; index += 1) {
      const accountId = await createAccount(stack.platform.db, `Bench ${index}`);
      const { key } = await issueApiKey(stack.platform.db, accountId, { name: 'bench' });
      const saved = await fetch(`${stack.url}/api/v1/webhook`, {
        method: 'PUT',
        headers: { authorization: `Basic ${Buffer.from(`bench:${key}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url }),
      });
      if (saved.status !== 200) throw new Error(`could not set the webhook: ${saved.status}`);
      accounts.push(accountId);
    }

    // Open the pool's connections before the clock starts: a connection set up mid-run (a
    // backend fork and a SCRAM exchange, 50–250 ms on this VM) is a cold start, not delivery.
    const warm = await Promise.all(Array.from({ length: stack.platform.config.databasePoolSize }, () => stack.platform.db.connect()));
    warm.forEach((client) => client.release());

    const recorded = new Map<string, number>();
    const started = performance.now();
    await Promise.all(
      accounts.map(async (accountId) => {
        for (let batch = 0; batch < TRANSACTIONS_PER_ACCOUNT; batch += 1) {
          const iids = Array.from({ length: ACTIVITIES_PER_TRANSACTION }, () => crypto.randomUUID());
          await withTransaction(stack.platform.db, async (client) => {
            const { rows } = await client.query<{ id: number }>(
              `INSERT INTO contact_activities (account_id, iid, activity_status, media_type, occurred_at, email, message_id, status_data)
               SELECT $1, iid, 'DELIVERED', 'email', now(), 'bench@example.com', 1, '{}'::jsonb FROM unnest($2::uuid[]) AS iid
               RETURNING id`,
              [accountId, iids],
            );
            await publishRecordedActivities(client, accountId, rows.map((row) => row.id));
          });
          const committed = performance.now();
          for (const iid of iids) recorded.set(iid, committed);
          await relayWebhookOutbox(stack.platform, accountId);
        }
      }),
    );
    const total = ACCOUNTS * TRANSACTIONS_PER_ACCOUNT * ACTIVITIES_PER_TRANSACTION;
    const deadline = Date.now() + 120_000;
    while (arrivals.size < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const finished = Math.max(...arrivals.values());
    const latencies = [...recorded].flatMap(([iid, at]) => (arrivals.has(iid) ? [arrivals.get(iid)! - at] : [])).sort((a, b) => a - b);
    const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
    return {
      activities: total,
      delivered: arrivals.size,
      accounts: ACCOUNTS,
      'activities per transaction': ACTIVITIES_PER_TRANSACTION,
      'delivered activities/s': Math.round(arrivals.size / ((finished - started) / 1000)),
      'latency p50 ms (commit → POST received)': Number(percentile(50).toFixed(1)),
      'latency p99 ms (commit → POST received)': Number(percentile(99).toFixed(1)),
    };
  } finally {
    receiver.closeAllConnections();
    receiver.close();
    await stack.close();
  }
}
