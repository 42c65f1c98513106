/**
 * The local SQS server keeps its messages in memory, so a restarted `npm start` begins with
 * empty queues. What the database says was queued (activities to deliver, imports, export runs,
 * broadcasts, trigger-event pages) must be queued again at start, or it would wait for ever.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { QueueName } from '../../shared/topology';
import { numberedActivity, recordActivities } from '../webhooks/activities';
import { waitUntil } from '../support/wait-until';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { createTestDatabase, startTestStack, type TestDatabase, type TestStack } from '../support/stack';

let receiver: WebhookReceiver;
const databases: TestDatabase[] = [];
const running = new Set<TestStack>();

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  for (const stack of running) await stack.stop();
  for (const database of databases) await database.drop();
  await receiver.close();
});

/** A stack on `database` (a fresh one when not given) with queues of its own, as `npm start` has after a restart. */
async function start(options: Parameters<typeof startTestStack>[0] = {}): Promise<TestStack> {
  let database = options.database;
  if (!database) {
    database = await createTestDatabase('restart');
    databases.push(database);
  }
  const stack = await startTestStack({ ...options, database });
  running.add(stack);
  return stack;
}

async function stop(stack: TestStack): Promise<void> {
  running.delete(stack);
  await stack.stop();
}

it('delivers after a restart what the last run had queued and not delivered, once each and in order', async () => {
  // A retry an hour away: only a restart that queues the batch again delivers it in this test.
  const first = await start({ env: { WEBHOOK_RETRY_BASE_SECONDS: '3600' } });
  const account = await first.createAccount();
  expect((await first.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url })).status).toBe(200);

  const delivered = Array.from({ length: 3 }, (_, index) => numberedActivity(index));
  await recordActivities(first, account.accountId, delivered);
  await receiver.waitFor(() => receiver.acceptedActivities().length === 3);

  receiver.failAlways({ status: 503 });
  const waiting = Array.from({ length: 4 }, (_, index) => numberedActivity(3 + index));
  await recordActivities(first, account.accountId, waiting);
  await receiver.waitFor(() => receiver.requests.some((request) => request.method === 'POST' && request.answered === 503));
  await stop(first);

  receiver.recover();
  const restarted = await start({ database: first.database });
  await receiver.waitFor(() => receiver.acceptedActivities().length === 7);
  // Once the outbox is empty no copy of these rows can be sent any more: a second POST would have come before.
  const outboxRows = async () =>
    (await restarted.platform.db.query('SELECT count(*)::int AS n FROM webhook_outbox WHERE account_id = $1', [account.accountId])).rows[0]
      .n as number;
  await waitUntil(async () => (await outboxRows()) === 0, 'the outbox emptying');
  expect(receiver.acceptedActivities().map((activity) => activity.iid)).toEqual([...delivered, ...waiting].map((activity) => activity.iid));
});

it('queues again the imports, export runs and broadcasts that were queued or under way, and nothing finished or abandoned', async () => {
  const first = await start({ background: false });
  const account = await first.createAccount();
  const db = first.platform.db;
  const { rows: imports } = await db.query<{ id: string; status: string }>(
    `INSERT INTO contact_import_jobs (account_id, status, request, total)
     SELECT $1, status, '{"contacts": []}', 0 FROM unnest(ARRAY['QUEUED', 'RUNNING', 'FINISHED', 'FAILED']) AS status RETURNING id, status`,
    [account.accountId],
  );
  const { rows: exportRows } = await db.query<{ id: number }>(
    `INSERT INTO exports (account_id, connector_id, destination, datasets, interval, target_schema) VALUES ($1, 1, 'postgres', '{contacts}', '1h', 'satellite') RETURNING id`,
    [account.accountId],
  );
  const { rows: runs } = await db.query<{ id: number; status: string }>(
    `INSERT INTO export_runs (export_id, account_id, dataset, trigger, status)
     SELECT $1, $2, dataset, 'schedule', status FROM unnest(ARRAY['contacts', 'orders', 'revenue', 'messages'], ARRAY['queued', 'running', 'succeeded', 'retrying']) AS given(dataset, status)
     RETURNING id, status`,
    [exportRows[0]!.id, account.accountId],
  );
  // Abandoned already (no heartbeat for over an hour): the next schedule replaces it.
  await db.query(
    `INSERT INTO export_runs (export_id, account_id, dataset, trigger, status, updated_at) VALUES ($1, $2, 'devices', 'schedule', 'running', now() - interval '2 hours')`,
    [exportRows[0]!.id, account.accountId],
  );
  const { rows: broadcasts } = await db.query<{ id: number; status: string }>(
    `INSERT INTO broadcasts (account_id, name, status) SELECT $1, status, status FROM unnest(ARRAY['SCHEDULED', 'RUNNING', 'IDLE', 'PAUSED']) AS status RETURNING id, status`,
    [account.accountId],
  );
  const active = <T extends { status: string }>(rows: readonly T[], statuses: readonly string[]) =>
    rows.filter((row) => statuses.includes(row.status));

  await stop(first);

  const restarted = await start({ database: first.database, background: false });
  const importBodies = await bodiesIn(restarted, 'imports');
  expect(importBodies).toHaveLength(2);
  expect(importBodies).toEqual(expect.arrayContaining(active(imports, ['QUEUED', 'RUNNING']).map(({ id }) => ({ jobId: id }))));
  expect(await bodiesIn(restarted, 'exports')).toEqual(active(runs, ['queued', 'running', 'retrying']).map(({ id }) => ({ runId: id })));
  expect(await bodiesIn(restarted, 'broadcasts')).toEqual(active(broadcasts, ['SCHEDULED', 'RUNNING']).map(({ id }) => ({ broadcastId: id })));
});

it('finishes after a restart a trigger-event run whose pages were queued and not yet assembled', async () => {
  const first = await start({ background: false });
  const account = await first.createAccount();
  for (const email of ['t1@example.com', 't2@example.com']) {
    expect((await first.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: email }] })).body.id).toEqual(
      expect.any(Number),
    );
  }
  const segment = await first.request(account, 'POST', '/api/v1/groups', {
    name: 'No external ID',
    conditions: [{ field: 'externalCustomerId', operator: 'notSet' }],
  });
  const workflow = await first.request(account, 'POST', '/api/v1/workflows/regular', {
    name: 'w',
    segmentId: segment.body.id,
    schedule: 'rate(1 day)',
  });
  const run = await first.request(account, 'POST', `/api/v1/workflows/regular/${workflow.body.id}/run`);
  expect(run.status).toBe(202);
  expect(run.body).toEqual({ queuedMembers: 2 });
  // Stopped before any consumer took the page: only the store still knows it.
  await stop(first);

  const restarted = await start({ database: first.database });
  const db = restarted.platform.db;
  const events = async () =>
    (
      await db.query<{ n: number }>(
        `SELECT count(DISTINCT e.contact_id)::int AS n FROM events e JOIN event_types t ON t.id = e.event_type_id WHERE t.account_id = $1 AND t.key = $2`,
        [account.accountId, `regularEventType-${segment.body.id}`],
      )
    ).rows[0]!.n;
  await waitUntil(async () => (await events()) === 2, "the interrupted run's events");
  const pagesLeft = async () =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM trigger_event_pages WHERE account_id = $1', [account.accountId])).rows[0]!.n;
  await waitUntil(async () => (await pagesLeft()) === 0, 'the assembled page leaving the store');
});

/** Every message the queue holds now, received (and left to reappear after its visibility timeout). */
async function bodiesIn(stack: TestStack, queue: QueueName): Promise<unknown[]> {
  const bodies: unknown[] = [];
  for (;;) {
    const { Messages } = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queueUrls[queue], MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!Messages?.length) return bodies;
    bodies.push(...Messages.map((message) => JSON.parse(message.Body ?? 'null') as unknown));
  }
}
