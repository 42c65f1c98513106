import { DeleteMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createHandler } from '../../functions/send-broadcast/handler';
import { receiveRecords } from '../support/sqs-records';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

/**
 * Broadcasts through the queue, with the worker driven by hand (no background pollers): the
 * jobs are the real messages on the stack's broadcasts queue, handed to the worker in the SQS
 * event shape, and its time budget is the Lambda context's.
 */
let stack: TestStack;
let worker: ReturnType<typeof createHandler>;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  worker = createHandler(stack.platform);
});
afterAll(async () => {
  await stack.stop();
});

/** Nearly out of time: the worker sends one page and queues its continuation. */
const lastSeconds = { getRemainingTimeInMillis: () => 0 };
const plentyOfTime = { getRemainingTimeInMillis: () => 15 * 60_000 };

interface Delivery {
  readonly event: SQSEvent;
  readonly receiptHandle: string;
}

/** The next job on the broadcasts queue, as the Lambda event source would deliver it. */
async function receiveJob(): Promise<Delivery | undefined> {
  const [record] = await receiveRecords(stack.sqs, stack.queueUrls.broadcasts, { visibilityTimeout: 300 });
  return record && { event: { Records: [record] }, receiptHandle: record.receiptHandle };
}

/** Hands a delivery to the worker and, like the event source, deletes it unless reported failed. */
async function deliver(delivery: Delivery, context: { getRemainingTimeInMillis(): number }): Promise<SQSBatchResponse> {
  const result = await worker(delivery.event, context);
  if (result.batchItemFailures.length === 0)
    await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrls.broadcasts, ReceiptHandle: delivery.receiptHandle }));
  return result;
}

/** Runs every queued job (continuations included) to the end; answers how many invocations it took. */
async function drain(context: { getRemainingTimeInMillis(): number }): Promise<number> {
  for (let invocations = 0; invocations < 50; invocations += 1) {
    const delivery = await receiveJob();
    if (!delivery) return invocations;
    expect((await deliver(delivery, context)).batchItemFailures).toEqual([]);
  }
  throw new Error('the broadcast jobs never ran out');
}

async function nextJob(): Promise<Delivery> {
  const delivery = await receiveJob();
  if (!delivery) throw new Error('no broadcast job is queued');
  return delivery;
}

/** `count` contacts with an address at `domain`, written straight to the store (an import would need the imports worker). */
async function addContacts(account: TestAccount, count: number, domain: string): Promise<number[]> {
  const { rows } = await stack.platform.db.query<{ id: number }>(
    `WITH created AS (
       INSERT INTO contacts (account_id, first_name) SELECT $1, 'Member ' || n FROM generate_series(1, $2) AS n RETURNING id, first_name
     )
     INSERT INTO contact_channels (account_id, contact_id, type, value, normalized)
     SELECT $1, id, 'email', lower(replace(first_name, ' ', '')) || '@' || $3, lower(replace(first_name, ' ', '')) || '@' || $3 FROM created
     RETURNING contact_id AS id`,
    [account.accountId, count, domain],
  );
  return rows.map((row) => row.id).sort((a, b) => a - b);
}

async function broadcastTo(
  account: TestAccount,
  domain: string,
  htmlText = '<p>Hello $!contact.firstName</p>',
): Promise<{ broadcastId: number; messageId: number; groupId: number }> {
  const group = await stack.request(account, 'POST', '/api/v1/groups', {
    name: `Everyone at ${domain}`,
    conditions: [{ field: 'email', operator: 'contains', value: `@${domain}` }],
  });
  expect(group.status).toBe(200);
  const message = await stack.request(account, 'POST', '/api/v1/messages/email', { name: 'News', subject: 'News for $!contact.firstName', htmlText });
  expect(message.status).toBe(201);
  const broadcast = await stack.request(account, 'POST', '/api/v1/broadcasts', { messageId: message.body.id, groupId: group.body.id });
  expect(broadcast.status).toBe(202);
  return { broadcastId: broadcast.body.id, messageId: message.body.id, groupId: group.body.id };
}

async function sendsOf(broadcastId: number): Promise<{ sends: number; contacts: number }> {
  const { rows } = await stack.platform.db.query<{ sends: number; contacts: number }>(
    'SELECT count(*)::int AS sends, count(DISTINCT contact_id)::int AS contacts FROM message_sends WHERE broadcast_id = $1',
    [broadcastId],
  );
  return rows[0] ?? { sends: 0, contacts: 0 };
}

async function statusOf(account: TestAccount, broadcastId: number) {
  const response = await stack.request(account, 'GET', `/api/v1/broadcast/${broadcastId}`);
  expect(response.status).toBe(200);
  return response.body;
}

describe('starting a broadcast', () => {
  it('answers 202 SCHEDULED at once and leaves the sending to the worker', async () => {
    const account = await stack.createAccount();
    const [first] = await addContacts(account, 3, 'start.example');
    const { broadcastId, messageId, groupId } = await broadcastTo(account, 'start.example');

    const scheduled = await statusOf(account, broadcastId);
    expect(scheduled).toMatchObject({
      id: broadcastId,
      messageId,
      groupId,
      mediaType: 'Email',
      status: 'SCHEDULED',
      recipients: null,
      sent: 0,
      failed: 0,
      failures: [],
      startedDate: null,
    });
    expect(scheduled.name).toBe('News → Everyone at start.example');
    expect(await sendsOf(broadcastId)).toEqual({ sends: 0, contacts: 0 });

    expect(await drain(plentyOfTime)).toBe(1);
    const done = await statusOf(account, broadcastId);
    expect(done).toMatchObject({ status: 'IDLE', recipients: 3, sent: 3, failed: 0, failures: [] });
    expect(new Date(done.startedDate).getTime()).toBeLessThanOrEqual(new Date(done.updatedDate).getTime());
    const { rows } = await stack.platform.db.query(
      'SELECT subject, html_text, campaign_type FROM message_sends WHERE broadcast_id = $1 AND contact_id = $2',
      [broadcastId, first],
    );
    expect(rows).toEqual([{ subject: 'News for Member 1', html_text: '<p>Hello Member 1</p>', campaign_type: 'Group' }]);
    // The SENT activity names the broadcast (what webhooks and exports carry).
    const activities = await stack.platform.db.query(
      `SELECT count(*)::int AS n FROM contact_activities WHERE broadcast_id = $1 AND activity_status = 'SENT'`,
      [broadcastId],
    );
    expect(activities.rows[0].n).toBe(3);
  });

  it("accepts seed 004's name, POST /api/v1/broadcast, and a name of its own", async () => {
    const account = await stack.createAccount();
    await addContacts(account, 1, 'alias.example');
    const group = await stack.request(account, 'POST', '/api/v1/groups', {
      name: 'Alias',
      conditions: [{ field: 'email', operator: 'contains', value: '@alias.example' }],
    });
    const message = await stack.request(account, 'POST', '/api/v1/messages/email', { name: 'Hi', subject: 'Hi', htmlText: 'Hi' });
    const broadcast = await stack.request(account, 'POST', '/api/v1/broadcast', {
      messageId: message.body.id,
      groupId: group.body.id,
      name: 'Spring sale',
    });
    expect(broadcast.status).toBe(202);
    expect(broadcast.body).toEqual({ id: expect.any(Number), status: 'SCHEDULED' });
    expect(await drain(plentyOfTime)).toBe(1);
    expect(await statusOf(account, broadcast.body.id)).toMatchObject({ name: 'Spring sale', status: 'IDLE', sent: 1 });
  });

  it('refuses an unknown message or group, and a malformed body, without queuing anything', async () => {
    const account = await stack.createAccount();
    const group = await stack.request(account, 'POST', '/api/v1/groups', { name: 'Any', conditions: [{ field: 'email', operator: 'isNotEmpty' }] });
    const message = await stack.request(account, 'POST', '/api/v1/messages/email', { name: 'Hi', subject: 'Hi', htmlText: 'Hi' });

    const noMessage = await stack.request(account, 'POST', '/api/v1/broadcasts', { messageId: 987654, groupId: group.body.id });
    expect(noMessage.status).toBe(404);
    expect(noMessage.body.error.code).toBe('MESSAGE_NOT_FOUND');
    const noGroup = await stack.request(account, 'POST', '/api/v1/broadcasts', { messageId: message.body.id, groupId: 987654 });
    expect(noGroup.status).toBe(404);
    expect(noGroup.body.error.code).toBe('GROUP_NOT_FOUND');
    const malformed = await stack.request(account, 'POST', '/api/v1/broadcasts', { messageId: 'one', groupId: group.body.id, extra: true });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_FAILED');

    expect(await receiveJob()).toBeUndefined();
    expect((await stack.request(account, 'GET', '/api/v1/broadcasts')).headers.get('TotalCount')).toBe('0');
  });

  it('needs the messages right', async () => {
    const eventsOnly = await stack.createAccount({ rights: 'events' });
    const response = await stack.request(eventsOnly, 'POST', '/api/v1/broadcasts', { messageId: 1, groupId: 1 });
    expect(response.status).toBe(403);
    expect((await stack.request(eventsOnly, 'GET', '/api/v1/broadcasts')).status).toBe(403);
  });
});

describe('sending in pages', () => {
  it('continues itself through the queue when its time runs low, and every member gets exactly one send', async () => {
    const account = await stack.createAccount();
    await addContacts(account, 2500, 'pages.example');
    const { broadcastId } = await broadcastTo(account, 'pages.example');

    // One page per invocation: 1000, 1000, then the last 500 and IDLE.
    expect((await deliver(await nextJob(), lastSeconds)).batchItemFailures).toEqual([]);
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'RUNNING', recipients: 2500, sent: 1000 });
    expect(await drain(lastSeconds)).toBe(2);

    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'IDLE', recipients: 2500, sent: 2500, failed: 0 });
    expect(await sendsOf(broadcastId)).toEqual({ sends: 2500, contacts: 2500 });
  });

  it('sends the audience of the moment it started: contacts added later are not members', async () => {
    const account = await stack.createAccount();
    await addContacts(account, 1200, 'fixed.example');
    const { broadcastId } = await broadcastTo(account, 'fixed.example');
    await deliver(await nextJob(), lastSeconds);
    await addContacts(account, 5, 'fixed.example');
    await drain(plentyOfTime);
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'IDLE', recipients: 1200, sent: 1200 });
    expect(await sendsOf(broadcastId)).toEqual({ sends: 1200, contacts: 1200 });
  });

  it('records per-contact failures (the first 100) and sends to everyone else', async () => {
    const account = await stack.createAccount();
    const reachable = await addContacts(account, 3, 'failures.example');
    const { rows } = await stack.platform.db.query<{ id: number }>(
      `INSERT INTO contacts (account_id, first_name) SELECT $1, 'Member without email ' || n FROM generate_series(1, 102) AS n RETURNING id`,
      [account.accountId],
    );
    const unreachable = rows.map((row) => row.id).sort((a, b) => a - b);
    const group = await stack.request(account, 'POST', '/api/v1/groups', {
      name: 'Members',
      conditions: [{ field: 'firstName', operator: 'contains', value: 'Member' }],
    });
    const message = await stack.request(account, 'POST', '/api/v1/messages/email', { name: 'Hi', subject: 'Hi', htmlText: 'Hi $!contact.firstName' });
    const broadcast = await stack.request(account, 'POST', '/api/v1/broadcasts', { messageId: message.body.id, groupId: group.body.id });
    expect(await drain(plentyOfTime)).toBe(1);

    const done = await statusOf(account, broadcast.body.id);
    expect(done).toMatchObject({ status: 'IDLE', recipients: 105, sent: 3, failed: 102 });
    expect(done.failures).toHaveLength(100);
    expect(done.failures[0]).toEqual({ contactId: unreachable[0], error: { code: 'NO_EMAIL', message: 'the contact has no email address' } });
    expect(done.failures.map((failure: { contactId: number }) => failure.contactId)).toEqual(unreachable.slice(0, 100));
    const sent = await stack.platform.db.query('SELECT contact_id FROM message_sends WHERE broadcast_id = $1 ORDER BY contact_id', [
      broadcast.body.id,
    ]);
    expect(sent.rows.map((row) => row.contact_id)).toEqual(reachable);
  });
});

describe('a job delivered more than once', () => {
  it('resumes where the first delivery stopped and sends nobody twice', async () => {
    const account = await stack.createAccount();
    await addContacts(account, 2100, 'redelivery.example');
    const { broadcastId } = await broadcastTo(account, 'redelivery.example');

    // The first delivery sends a page and queues its continuation, but its own message is
    // not deleted (as when a Lambda dies before the event source deletes it): it comes back.
    const original = await nextJob();
    await worker(original.event, lastSeconds);
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'RUNNING', sent: 1000 });
    await deliver(original, lastSeconds);
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'RUNNING', sent: 2000 });

    // Both continuations run; the second finds the broadcast done.
    expect(await drain(plentyOfTime)).toBe(2);
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'IDLE', recipients: 2100, sent: 2100 });
    expect(await sendsOf(broadcastId)).toEqual({ sends: 2100, contacts: 2100 });
  });

  it('repeats a page whose sends committed but whose progress was lost, without sending it again', async () => {
    const account = await stack.createAccount();
    await addContacts(account, 1500, 'lost.example');
    const { broadcastId } = await broadcastTo(account, 'lost.example');
    const original = await nextJob();
    await worker(original.event, lastSeconds);
    // A crash between the page's sends and its progress commit leaves exactly this behind.
    await stack.platform.db.query('UPDATE broadcasts SET cursor_contact_id = 0, sent = 0 WHERE id = $1', [broadcastId]);
    expect(await sendsOf(broadcastId)).toEqual({ sends: 1000, contacts: 1000 });

    await deliver(original, plentyOfTime);
    await drain(plentyOfTime);
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'IDLE', recipients: 1500, sent: 1500 });
    expect(await sendsOf(broadcastId)).toEqual({ sends: 1500, contacts: 1500 });
  });

  it('runs once when two deliveries arrive together', async () => {
    const account = await stack.createAccount();
    await addContacts(account, 1500, 'twice.example');
    const { broadcastId } = await broadcastTo(account, 'twice.example');
    const job = await nextJob();
    const results = await Promise.all([worker(job.event, plentyOfTime), worker(job.event, plentyOfTime)]);
    expect(results.map((result) => result.batchItemFailures)).toEqual([[], []]);
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'IDLE', sent: 1500 });
    expect(await sendsOf(broadcastId)).toEqual({ sends: 1500, contacts: 1500 });
    await deliver(job, plentyOfTime);
  });
});

describe('cancelling', () => {
  it('stops a SCHEDULED broadcast before anything is sent', async () => {
    const account = await stack.createAccount();
    await addContacts(account, 10, 'cancel-early.example');
    const { broadcastId } = await broadcastTo(account, 'cancel-early.example');
    const cancelled = await stack.request(account, 'DELETE', `/api/v1/broadcast/${broadcastId}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: broadcastId, status: 'PAUSED', sent: 0 });
    await drain(plentyOfTime);
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'PAUSED', recipients: null, sent: 0 });
    expect(await sendsOf(broadcastId)).toEqual({ sends: 0, contacts: 0 });
    // Cancelling again changes nothing.
    const again = await stack.request(account, 'DELETE', `/api/v1/broadcast/${broadcastId}`);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('PAUSED');
  });

  it('stops a RUNNING broadcast at its next page', async () => {
    const account = await stack.createAccount();
    await addContacts(account, 2500, 'cancel-running.example');
    const { broadcastId } = await broadcastTo(account, 'cancel-running.example');
    await deliver(await nextJob(), lastSeconds);
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'RUNNING', sent: 1000 });

    expect((await stack.request(account, 'DELETE', `/api/v1/broadcast/${broadcastId}`)).status).toBe(200);
    expect(await drain(plentyOfTime)).toBe(1);
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'PAUSED', recipients: 2500, sent: 1000 });
    expect(await sendsOf(broadcastId)).toEqual({ sends: 1000, contacts: 1000 });
    const members = await stack.platform.db.query('SELECT count(*)::int AS n FROM broadcast_members WHERE broadcast_id = $1', [broadcastId]);
    expect(members.rows[0].n).toBe(0);
  });

  it('cannot cancel a finished broadcast', async () => {
    const account = await stack.createAccount();
    await addContacts(account, 2, 'cancel-late.example');
    const { broadcastId } = await broadcastTo(account, 'cancel-late.example');
    await drain(plentyOfTime);
    const response = await stack.request(account, 'DELETE', `/api/v1/broadcast/${broadcastId}`);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('BROADCAST_FINISHED');
    expect(await statusOf(account, broadcastId)).toMatchObject({ status: 'IDLE', sent: 2 });
  });
});

describe('a broadcast that cannot be sent', () => {
  it('is PAUSED with the reason when its message was deleted after it was queued', async () => {
    const account = await stack.createAccount();
    await addContacts(account, 2, 'deleted-message.example');
    const { broadcastId, messageId } = await broadcastTo(account, 'deleted-message.example');
    expect((await stack.request(account, 'DELETE', `/api/v1/messages/email/${messageId}`)).status).toBe(204);
    expect(await drain(plentyOfTime)).toBe(1);
    expect(await statusOf(account, broadcastId)).toMatchObject({
      status: 'PAUSED',
      sent: 0,
      error: { code: 'MESSAGE_NOT_FOUND', message: 'message not found' },
    });
  });

  it('reports a message that is not a job as failed, so SQS moves it to the dead-letter queue', async () => {
    const record = { messageId: 'poison', body: '{"broadcastId":"seven"}', attributes: { ApproximateReceiveCount: '1' } } as SQSRecord;
    expect(await worker({ Records: [record] }, plentyOfTime)).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
  });
});

describe('reading broadcasts', () => {
  it('lists the account’s broadcasts newest first, paged, with TotalCount', async () => {
    const account = await stack.createAccount();
    await addContacts(account, 1, 'list.example');
    const first = await broadcastTo(account, 'list.example');
    const second = await broadcastTo(account, 'list.example');
    await drain(plentyOfTime);

    const all = await stack.request(account, 'GET', '/api/v1/broadcasts');
    expect(all.status).toBe(200);
    expect(all.headers.get('TotalCount')).toBe('2');
    expect(all.body.map((broadcast: { id: number }) => broadcast.id)).toEqual([second.broadcastId, first.broadcastId]);
    expect(all.body[0]).toMatchObject({ status: 'IDLE', recipients: 1, sent: 1 });

    const page = await stack.request(account, 'GET', '/api/v1/broadcasts?startindex=2&maxrows=1');
    expect(page.headers.get('TotalCount')).toBe('2');
    expect(page.body.map((broadcast: { id: number }) => broadcast.id)).toEqual([first.broadcastId]);
    expect((await stack.request(account, 'GET', '/api/v1/broadcasts?maxrows=501')).status).toBe(400);
  });

  it("keeps each account's broadcasts to itself", async () => {
    const owner = await stack.createAccount();
    const other = await stack.createAccount();
    await addContacts(owner, 1, 'isolation.example');
    const { broadcastId, messageId, groupId } = await broadcastTo(owner, 'isolation.example');

    for (const [method, path] of [
      ['GET', `/api/v1/broadcast/${broadcastId}`],
      ['DELETE', `/api/v1/broadcast/${broadcastId}`],
    ] as const) {
      const response = await stack.request(other, method, path);
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('BROADCAST_NOT_FOUND');
    }
    const list = await stack.request(other, 'GET', '/api/v1/broadcasts');
    expect(list.body).toEqual([]);
    expect(list.headers.get('TotalCount')).toBe('0');
    // Another account's message and group cannot be sent either.
    const borrowed = await stack.request(other, 'POST', '/api/v1/broadcasts', { messageId, groupId });
    expect(borrowed.status).toBe(404);
    await drain(plentyOfTime);
    expect(await statusOf(owner, broadcastId)).toMatchObject({ status: 'IDLE', sent: 1 });
  });

  it('answers 404 for an unknown broadcast and 400 for an id that is not one', async () => {
    const account = await stack.createAccount();
    const missing = await stack.request(account, 'GET', '/api/v1/broadcast/99999999');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('BROADCAST_NOT_FOUND');
    expect((await stack.request(account, 'DELETE', '/api/v1/broadcast/99999999')).status).toBe(404);
    expect((await stack.request(account, 'GET', '/api/v1/broadcast/first')).status).toBe(400);
  });
});
