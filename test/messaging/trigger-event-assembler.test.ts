import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createHandler as createAssembler } from '../../functions/assemble-trigger-events/handler';
import { lambdaContext } from '../../local/lambda-context';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

/** The deployed function, invoked as Lambda does: with a context carrying its time budget. */
function createHandler(platform: TestStack['platform']) {
  const assembler = createAssembler(platform);
  return (event: Parameters<typeof assembler>[0]) => assembler(event, lambdaContext('assemble-trigger-events', 300_000));
}

let stack: TestStack;
let account: TestAccount;

beforeAll(async () => {
  stack = await startTestStack({ background: false, clock: { now: () => new Date('2026-03-10T09:00:00Z') } });
  account = await stack.createAccount();
});
afterAll(() => stack.stop());

function sqsEvent(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, index) => ({
      messageId: `m-${index}`,
      receiptHandle: `r-${index}`,
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'local', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:local:000000000000:triggerEvents',
      awsRegion: 'local',
    })),
  };
}

async function setUp(htmlText: string): Promise<{ workflowId: number; segmentId: number; contactIds: number[] }> {
  const contactIds: number[] = [];
  for (const email of [`a-${Math.random()}@example.com`, `b-${Math.random()}@example.com`]) {
    contactIds.push(
      (await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'X', channels: [{ type: 'email', value: email }] })).body.id,
    );
  }
  const segment = await stack.request(account, 'POST', '/api/v1/groups', {
    name: 'No external ID',
    conditions: [{ field: 'externalCustomerId', operator: 'notSet' }],
  });
  const message = await stack.request(account, 'POST', '/api/v1/messages/email', { name: 'm', subject: 's', htmlText });
  expect(message.status).toBe(201);
  const workflow = await stack.request(account, 'POST', '/api/v1/workflows/regular', {
    name: 'w',
    segmentId: segment.body.id,
    messageId: message.body.id,
    schedule: 'rate(1 day)',
  });
  expect(workflow.status).toBe(201);
  return { workflowId: workflow.body.id, segmentId: segment.body.id, contactIds };
}

describe('the trigger-event assembler', () => {
  it('reports a message that is not a page as failed, and keeps going with the rest of the batch', async () => {
    const { workflowId, contactIds } = await setUp('ok');
    const page = JSON.stringify({ accountId: account.accountId, workflowId, day: '2026-03-10', contactIds });
    const result = await createHandler(stack.platform)(sqsEvent('{"not": "a page"}', 'not json', page));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }] });
    const { rows } = await stack.platform.db.query('SELECT count(*)::int AS n FROM trigger_event_emissions WHERE workflow_id = $1', [workflowId]);
    expect(rows[0].n).toBe(2);
  });

  it('emits the events even when the workflow message does not render, and the worker survives', async () => {
    const { workflowId, segmentId, contactIds } = await setUp('#foreach($i in [1..100000000])x#end');
    const page = JSON.stringify({ accountId: account.accountId, workflowId, day: '2026-03-10', contactIds });
    expect(await createHandler(stack.platform)(sqsEvent(page))).toEqual({ batchItemFailures: [] });
    const { rows } = await stack.platform.db.query(
      `SELECT e.params FROM events e JOIN event_types t ON t.id = e.event_type_id WHERE t.account_id = $1 AND t.key = $2 AND e.contact_id = ANY($3::bigint[])`,
      [account.accountId, `regularEventType-${segmentId}`, contactIds],
    );
    expect(rows).toHaveLength(2);
    // A workflow without sources still carries a jsonParam: an empty object, valid JSON.
    expect(JSON.parse(rows[0].params.find((param: { name: string }) => param.name === 'jsonParam').value)).toEqual({});
    const sends = await stack.platform.db.query('SELECT count(*)::int AS n FROM message_sends WHERE contact_id = ANY($1::bigint[])', [contactIds]);
    expect(sends.rows[0].n).toBe(0);
  });

  it('refuses a schedule that cannot fire as written', async () => {
    const segment = await stack.request(account, 'POST', '/api/v1/groups', {
      name: 'Scheduled',
      conditions: [{ field: 'externalCustomerId', operator: 'notSet' }],
    });
    for (const schedule of ['rate(1000000000000 days)', 'rate(0 minutes)', 'cron(99 99 * * ? *)', 'every day']) {
      const refused = await stack.request(account, 'POST', '/api/v1/workflows/regular', { name: 'bad', segmentId: segment.body.id, schedule });
      expect([schedule, refused.status, refused.body.error?.details?.[0]?.path]).toEqual([schedule, 400, 'body.schedule']);
    }
    const fine = await stack.request(account, 'POST', '/api/v1/workflows/regular', {
      name: 'ok',
      segmentId: segment.body.id,
      schedule: 'rate(2 hours)',
    });
    expect(fine.status).toBe(201);
  });

  it('refuses "run now" on a disabled workflow, where its schedule just passes', async () => {
    const segment = await stack.request(account, 'POST', '/api/v1/groups', {
      name: 'Paused',
      conditions: [{ field: 'externalCustomerId', operator: 'notSet' }],
    });
    const workflow = await stack.request(account, 'POST', '/api/v1/workflows/regular', {
      name: 'off',
      segmentId: segment.body.id,
      schedule: 'rate(1 day)',
      enabled: false,
    });
    expect(workflow.status).toBe(201);
    const run = await stack.request(account, 'POST', `/api/v1/workflows/regular/${workflow.body.id}/run`);
    expect(run.status).toBe(409);
    expect(run.body.error.code).toBe('WORKFLOW_DISABLED');
    await createHandler(stack.platform)({
      source: 'satellite.scheduler',
      'detail-type': 'triggerEvents',
      time: '2026-03-11T09:00:00Z',
      detail: { accountId: account.accountId, workflowId: workflow.body.id },
    });
    const received = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queueUrls.triggerEvents, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    expect((received.Messages ?? []).filter((message) => JSON.parse(message.Body ?? '{}').workflowId === workflow.body.id)).toEqual([]);
  });

  it('queues the segment in pages when its schedule fires, and a second firing the same day emits nothing new', async () => {
    const { workflowId, segmentId } = await setUp('Hello');
    const handler = createHandler(stack.platform);
    const fire = () =>
      handler({
        source: 'satellite.scheduler',
        'detail-type': 'triggerEvents',
        time: '2026-03-11T09:00:00Z',
        detail: { accountId: account.accountId, workflowId },
      });
    await fire();
    await fire();
    // Drain the queue by hand (background is off): each page through the same handler.
    const bodies: string[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const received = await stack.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.queueUrls.triggerEvents, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      bodies.push(...(received.Messages ?? []).map((message) => message.Body ?? ''));
    }
    const pages = bodies.filter((body) => JSON.parse(body).workflowId === workflowId);
    expect(pages.length).toBe(2);
    for (const page of pages) expect(await handler(sqsEvent(page))).toEqual({ batchItemFailures: [] });
    const { rows } = await stack.platform.db.query(
      `SELECT count(*)::int AS events, count(DISTINCT e.contact_id)::int AS contacts FROM events e JOIN event_types t ON t.id = e.event_type_id
        WHERE t.account_id = $1 AND t.key = $2`,
      [account.accountId, `regularEventType-${segmentId}`],
    );
    expect(rows[0].events).toBe(rows[0].contacts);
    expect(rows[0].events).toBeGreaterThanOrEqual(2);
  });
  it("keeps a run's pages until they are assembled, and a later run clears its own pages left older than SQS keeps a message", async () => {
    const { workflowId } = await setUp('Hi');
    const db = stack.platform.db;
    const pagesOf = async () =>
      (await db.query<{ id: number }>('SELECT id FROM trigger_event_pages WHERE workflow_id = $1 ORDER BY id', [workflowId])).rows.map(
        (row) => row.id,
      );
    const leftOver = async (age: string) =>
      (
        await db.query<{ id: number }>(
          `INSERT INTO trigger_event_pages (account_id, workflow_id, day, contact_ids, created_at) VALUES ($1, $2, '2026-02-01', '{1}', now() - $3::interval) RETURNING id`,
          [account.accountId, workflowId, age],
        )
      ).rows[0]!.id;
    const stale = await leftOver('15 days');
    const recent = await leftOver('13 days');

    const handler = createHandler(stack.platform);
    await handler({
      source: 'satellite.scheduler',
      'detail-type': 'triggerEvents',
      time: '2026-03-12T09:00:00Z',
      detail: { accountId: account.accountId, workflowId },
    });
    const kept = await pagesOf();
    expect(kept).toHaveLength(2);
    expect(kept).toContain(recent);
    expect(kept).not.toContain(stale);

    const received = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queueUrls.triggerEvents, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const pages = (received.Messages ?? []).map((message) => message.Body ?? '').filter((body) => JSON.parse(body).workflowId === workflowId);
    expect(pages).toHaveLength(1);
    expect(await handler(sqsEvent(pages[0]!))).toEqual({ batchItemFailures: [] });
    expect(await pagesOf()).toEqual([recent]);
  });
  it('cuts a segment larger than a page into pages that hold every member once', async () => {
    const big = await stack.createAccount();
    const { rows: members } = await stack.platform.db.query<{ id: number }>(
      'INSERT INTO contacts (account_id) SELECT $1 FROM generate_series(1, 1500) RETURNING id',
      [big.accountId],
    );
    const segment = await stack.request(big, 'POST', '/api/v1/groups', {
      name: 'All',
      conditions: [{ field: 'externalCustomerId', operator: 'notSet' }],
    });
    const workflow = await stack.request(big, 'POST', '/api/v1/workflows/regular', {
      name: 'big',
      segmentId: segment.body.id,
      schedule: 'rate(1 day)',
    });
    const run = await stack.request(big, 'POST', `/api/v1/workflows/regular/${workflow.body.id}/run`);
    expect(run.body).toEqual({ queuedMembers: 1500 });

    const pages: { contactIds: number[] }[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const received = await stack.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.queueUrls.triggerEvents, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      pages.push(
        ...(received.Messages ?? []).map((message) => JSON.parse(message.Body ?? '{}')).filter((page) => page.workflowId === workflow.body.id),
      );
    }
    expect(pages.map((page) => page.contactIds.length).sort((a, b) => a - b)).toEqual([500, 1000]);
    expect(pages.flatMap((page) => page.contactIds).sort((a, b) => a - b)).toEqual(members.map((row) => row.id).sort((a, b) => a - b));
  });
});
