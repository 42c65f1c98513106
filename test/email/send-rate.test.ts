import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createHandler as createSendBroadcastHandler } from '../../functions/send-broadcast/handler';
import { startSmtpSinkServer, type RunningSmtpSink } from '../../local/smtp-sink';
import { deliverSends, sendJobSchema, type SendJob } from '../../shared/email/deliver-sends';
import { FakeClock } from '../support/fake-clock';
import { sqsRecordOf } from '../support/sqs-records';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * A broadcast to 3,000 contacts at an account rate of 100 emails a second, on a fake clock:
 * the send jobs the broadcast queued are run as the worker runs them, and what the token
 * bucket holds back is run again when the clock reaches its delay. Counting what reached
 * the SMTP sink per fake second shows the rate; no wall clock is read.
 */
let stack: TestStack;
let sink: RunningSmtpSink;
const clock = new FakeClock(Date.parse('2026-12-06T12:00:00Z'));
const RATE = 100;
const RECIPIENTS = 3_000;

beforeAll(async () => {
  sink = await startSmtpSinkServer({ countOnly: true });
  stack = await startTestStack({ background: false, clock });
});
afterAll(async () => {
  await stack.stop();
  await sink.stop();
});

async function receiveAll(queueUrl: string): Promise<{ body: string; record: ReturnType<typeof sqsRecordOf> }[]> {
  const all: { body: string; record: ReturnType<typeof sqsRecordOf> }[] = [];
  for (;;) {
    const received = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return all;
    for (const message of messages) all.push({ body: message.Body ?? '', record: sqsRecordOf(message, 'arn:aws:sqs:us-east-1:000000000000:queue') });
  }
}

it(`sends a broadcast of ${RECIPIENTS} at ${RATE} emails a second, every recipient once`, async () => {
  const account = await stack.createAccount();
  expect(
    (
      await stack.request(account, 'PUT', '/api/v1/settings/email', {
        fromAddress: 'news@example.com',
        sendRatePerSecond: RATE,
        channel: { type: 'smtp', host: '127.0.0.1', port: sink.smtpPort, security: 'none' },
      })
    ).status,
  ).toBe(200);
  await stack.platform.db.query(
    `WITH created AS (INSERT INTO contacts (account_id, first_name) SELECT $1, 'Member ' || n FROM generate_series(1, $2) AS n RETURNING id, first_name)
     INSERT INTO contact_channels (account_id, contact_id, type, value, normalized)
     SELECT $1, id, 'email', lower(replace(first_name, ' ', '')) || '@rate.example', lower(replace(first_name, ' ', '')) || '@rate.example' FROM created`,
    [account.accountId, RECIPIENTS],
  );
  const group = await stack.request(account, 'POST', '/api/v1/groups', {
    name: 'Everyone',
    conditions: [{ field: 'email', operator: 'contains', value: '@rate.example' }],
  });
  const message = await stack.request(account, 'POST', '/api/v1/messages/email', {
    name: 'News',
    subject: 'News for $!contact.firstName',
    htmlText: '<p>Hello $!contact.firstName</p>',
  });
  const broadcast = await stack.request(account, 'POST', '/api/v1/broadcasts', { messageId: message.body.id, groupId: group.body.id });
  expect(broadcast.status).toBe(202);

  // The broadcast worker renders and records every send, queueing send jobs as it goes.
  const broadcastWorker = createSendBroadcastHandler(stack.platform);
  for (let job = await receiveAll(stack.queueUrls.broadcasts); job.length > 0; job = await receiveAll(stack.queueUrls.broadcasts)) {
    expect(
      (await broadcastWorker({ Records: job.map((entry) => entry.record) }, { getRemainingTimeInMillis: () => 15 * 60_000 })).batchItemFailures,
    ).toEqual([]);
  }
  const queued = (await receiveAll(stack.queueUrls.emails)).map((entry) => sendJobSchema.parse(JSON.parse(entry.body)));
  expect(queued.reduce((total, job) => total + job.sendIds.length, 0)).toBe(RECIPIENTS);

  // The send worker's loop on the fake clock: a deferred job runs again once its delay has passed.
  const start = clock.now().getTime();
  let waiting: { dueAt: number; job: SendJob }[] = queued.map((job) => ({ dueAt: start, job }));
  const sentBySecond = new Map<number, number>();
  while (waiting.length > 0) {
    const now = clock.now().getTime();
    const due = waiting.filter((entry) => entry.dueAt <= now);
    waiting = waiting.filter((entry) => entry.dueAt > now);
    if (due.length === 0) {
      clock.advanceSeconds((Math.min(...waiting.map((entry) => entry.dueAt)) - now) / 1000);
      continue;
    }
    for (const { job } of due) {
      const before = sink.received();
      const outcome = await deliverSends(stack.platform, job);
      expect(outcome.failed).toBe(0);
      const second = (now - start) / 1000;
      sentBySecond.set(second, (sentBySecond.get(second) ?? 0) + (sink.received() - before));
      for (const deferred of outcome.deferred)
        waiting.push({
          dueAt: clock.now().getTime() + deferred.delaySeconds * 1000,
          job: { accountId: job.accountId, sendIds: [...deferred.sendIds] },
        });
    }
  }

  expect(sink.received()).toBe(RECIPIENTS);
  expect(new Set(sink.recipients).size).toBe(RECIPIENTS);
  for (const count of sentBySecond.values()) expect(count).toBeLessThanOrEqual(RATE);
  const elapsedSeconds = (clock.now().getTime() - start) / 1000;
  // A full bucket (one second's worth) at the start, then RATE a second.
  expect(elapsedSeconds).toBe(RECIPIENTS / RATE - 1);
  const { rows } = await stack.platform.db.query<{ state: string; attempts: number; n: number }>(
    'SELECT state, attempts, count(*)::int AS n FROM message_sends WHERE account_id = $1 GROUP BY state, attempts',
    [account.accountId],
  );
  expect(rows).toEqual([{ state: 'sent', attempts: 1, n: RECIPIENTS }]);
  // Each DELIVERED names the broadcast and message, as the send's SENT does.
  const delivered = await stack.platform.db.query<{ n: number; contacts: number }>(
    "SELECT count(*)::int AS n, count(DISTINCT contact_id)::int AS contacts FROM contact_activities WHERE account_id = $1 AND activity_status = 'DELIVERED' AND broadcast_id = $2 AND message_id = $3 AND campaign_type = 'Group'",
    [account.accountId, broadcast.body.id, message.body.id],
  );
  expect(delivered.rows[0]).toEqual({ n: RECIPIENTS, contacts: RECIPIENTS });
});
