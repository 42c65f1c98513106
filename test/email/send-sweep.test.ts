import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { createHandler as createSendEmailHandler } from '../../functions/send-email/handler';
import { createHandler as createSweepHandler } from '../../functions/sweep-sends/handler';
import { startSmtpSinkServer, type RunningSmtpSink } from '../../local/smtp-sink';
import { FakeClock } from '../support/fake-clock';
import { sqsRecordOf } from '../support/sqs-records';
import { startTestStack, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';

/**
 * The minute sweep, driven by hand on a fake clock: a send whose queue message was lost is
 * queued again once overdue and then sent (once), and a claim left by a worker that died
 * mid-send is closed as failed, never sent again.
 */
let stack: TestStack;
let sink: RunningSmtpSink;
const clock = new FakeClock(Date.parse('2026-12-06T12:00:00Z'));

beforeAll(async () => {
  sink = await startSmtpSinkServer();
  stack = await startTestStack({ background: false, clock });
});
afterAll(async () => {
  await stack.stop();
  await sink.stop();
});

async function takeJobs(): Promise<{ body: string; receiptHandle: string; record: ReturnType<typeof sqsRecordOf> }[]> {
  const received = await stack.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: stack.queueUrls.emails,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return (received.Messages ?? []).map((message) => ({
    body: message.Body ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    record: sqsRecordOf(message, 'arn:aws:sqs:us-east-1:000000000000:emails'),
  }));
}

it('queues again a send whose queue message was lost, sends it once, and closes a claim abandoned mid-send', async () => {
  const account = await stack.createAccount();
  await stack.request(account, 'PUT', '/api/v1/settings/email', {
    fromAddress: 'news@example.com',
    channel: { type: 'smtp', host: '127.0.0.1', port: sink.smtpPort, security: 'none' },
  });
  const contact = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'lost@example.com' }] });
  const message = await stack.request(account, 'POST', '/api/v1/messages/email', { name: 'Hello', subject: 'Hello', htmlText: '<p>Hello</p>' });
  const sent = await stack.request(account, 'POST', `/api/v1/message/${message.body.id}/smartsend`, { recipients: [{ contactId: contact.body.id }] });
  const sendId = sent.body.results[0].sendId as number;

  // The queue loses the job (as the local queue does on a restart).
  const lost = await takeJobs();
  expect(lost).toHaveLength(1);
  await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrls.emails, ReceiptHandle: lost[0]!.receiptHandle }));

  const sweep = createSweepHandler(stack.platform);
  const event = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
  await sweep(event, {} as Context);
  expect(await takeJobs()).toEqual([]); // not overdue yet: its job may still be on the queue

  clock.advanceSeconds(6 * 60);
  await sweep(event, {} as Context);
  const requeued = await takeJobs();
  expect(requeued.map((job) => JSON.parse(job.body))).toEqual([{ accountId: account.accountId, sendIds: [sendId] }]);
  const worker = createSendEmailHandler(stack.platform);
  const context = { getRemainingTimeInMillis: () => 60_000 };
  expect((await worker({ Records: [requeued[0]!.record] }, context)).batchItemFailures).toEqual([]);
  // The same job again (a duplicate from SQS or a second sweep) sends nothing more.
  expect((await worker({ Records: [requeued[0]!.record] }, context)).batchItemFailures).toEqual([]);
  await waitUntil(async () => sink.recipients.includes('lost@example.com'), 'the email to lost@example.com');
  expect(sink.recipients.filter((recipient) => recipient === 'lost@example.com')).toHaveLength(1);

  // A worker claimed a send and died before recording what became of it.
  const second = await stack.request(account, 'POST', `/api/v1/message/${message.body.id}/smartsend`, {
    recipients: [{ contactId: contact.body.id }],
  });
  const abandonedId = second.body.results[0].sendId as number;
  await stack.platform.db.query("UPDATE message_sends SET state = 'sending', claimed_at = $2, attempts = 1 WHERE id = $1", [
    abandonedId,
    clock.now(),
  ]);
  clock.advanceSeconds(2 * 3600);
  await sweep(event, {} as Context);
  const { rows } = await stack.platform.db.query('SELECT state, last_error FROM message_sends WHERE id = $1', [abandonedId]);
  expect(rows[0]).toEqual({ state: 'failed', last_error: expect.stringContaining('may have left') });
  for (const job of await takeJobs()) expect((await worker({ Records: [job.record] }, context)).batchItemFailures).toEqual([]);
  expect(sink.recipients.filter((recipient) => recipient === 'lost@example.com')).toHaveLength(1);
});
