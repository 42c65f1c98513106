import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { createHandler } from '../../functions/deliver-webhooks/handler';
import type { LaneMessage } from '../../shared/webhooks/outbox';
import { sqsRecordOf } from '../support/sqs-records';
import { startTestStack, type TestStack } from '../support/stack';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver';
import { numberedActivity, recordActivities } from './activities';

/**
 * The dispatcher driven by hand with batches of real queue messages. SQS may hand a consumer
 * several messages of one account at once, or fewer than last time; the local SQS server hands
 * over one message per group per receive, so each message here goes out under a group of its
 * own to land in one batch (the dispatcher reads the account from the message, as always).
 */
let stack: TestStack;
let receiver: WebhookReceiver;
const plentyOfTime = { getRemainingTimeInMillis: () => 60_000 };

beforeAll(async () => {
  stack = await startTestStack({ background: false, env: { WEBHOOK_RETRY_BASE_SECONDS: '0', WEBHOOK_TIMEOUT_MS: '1000' } });
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
  await stack.stop();
});

async function accountWithWebhook(): Promise<number> {
  const account = await stack.createAccount();
  expect((await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url })).status).toBe(200);
  return account.accountId;
}

/** Records numbered activities and queues them as one lane message of their own. */
async function queueMessage(accountId: number, numbers: readonly number[]): Promise<void> {
  const activityIds = await recordActivities(stack, accountId, numbers.map(numberedActivity), { relay: false });
  const { rows } = await stack.platform.db.query<{ lane: number; outbox_id: number }>(
    `SELECT e.lane, o.id AS outbox_id FROM webhook_endpoints e JOIN webhook_outbox o USING (account_id)
      WHERE e.account_id = $1 AND o.activity_id = ANY($2::bigint[]) ORDER BY o.id`,
    [accountId, activityIds],
  );
  const message: LaneMessage = { account: accountId, lane: rows[0]!.lane, outbox: rows.map((row) => row.outbox_id) };
  await stack.platform.queue.send('webhooks', [
    { body: JSON.stringify(message), groupId: `${accountId}-${numbers[0]}`, deduplicationId: `${message.outbox[0]}` },
  ]);
}

/** Every visible message of the webhooks queue, as SQS records in lane order. */
async function receiveAll(): Promise<SQSRecord[]> {
  const received = await stack.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: stack.queueUrls.webhooks,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 300,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return (received.Messages ?? [])
    .map((message) => sqsRecordOf(message, 'arn:aws:sqs:us-east-1:000000000000:webhooks.fifo'))
    .sort((a, b) => (JSON.parse(a.body) as LaneMessage).outbox[0]! - (JSON.parse(b.body) as LaneMessage).outbox[0]!);
}

const deliver = (records: SQSRecord[]) => createHandler(stack.platform)({ Records: records }, plentyOfTime);
const emails = (post: ReceivedRequest) => (JSON.parse(post.body) as { email: string }[]).map((activity) => activity.email);
const postsSince = (start: number) => receiver.requests.slice(start).filter((request) => request.method === 'POST');

it('retries a failed POST with exactly its activities and webhook-id when the queue hands over more', async () => {
  const accountId = await accountWithWebhook();
  const start = receiver.requests.length;
  await queueMessage(accountId, [1, 2]);
  receiver.failNext(1, { status: 500 });
  const first = await receiveAll();
  expect((await deliver(first)).batchItemFailures).toHaveLength(1);

  // The retry comes in one batch with a later message of the account.
  await queueMessage(accountId, [3]);
  const batch = await receiveAll();
  expect(batch).toHaveLength(2);
  expect((await deliver(batch)).batchItemFailures).toEqual([]);

  const [failed, retried, next] = postsSince(start);
  expect([failed!.answered, retried!.answered, next!.answered]).toEqual([500, 200, 200]);
  expect(retried!.headers['webhook-id']).toBe(failed!.headers['webhook-id']);
  expect(retried!.body).toBe(failed!.body);
  expect(emails(next!)).toEqual(['n3@example.com']);
  expect(next!.headers['webhook-id']).not.toBe(failed!.headers['webhook-id']);
});

it('retries a failed POST whole when the queue hands over only part of it, and sends nothing twice', async () => {
  const accountId = await accountWithWebhook();
  const start = receiver.requests.length;
  await queueMessage(accountId, [1]);
  await queueMessage(accountId, [2, 3]);
  receiver.failNext(1, { status: 503 });
  const both = await receiveAll();
  expect(both).toHaveLength(2);
  expect((await deliver(both)).batchItemFailures).toHaveLength(2);

  // Only the first message comes back in the next batch; the POST still carries all three.
  const [head, tail] = await receiveAll();
  expect((await deliver([head!])).batchItemFailures).toEqual([]);
  const [failed, retried] = postsSince(start);
  expect(emails(failed!)).toEqual(['n1@example.com', 'n2@example.com', 'n3@example.com']);
  expect(retried!.answered).toBe(200);
  expect(retried!.headers['webhook-id']).toBe(failed!.headers['webhook-id']);
  expect(retried!.body).toBe(failed!.body);

  // The second message finds its activities delivered: acknowledged, nothing POSTed again.
  expect((await deliver([tail!])).batchItemFailures).toEqual([]);
  expect(postsSince(start)).toHaveLength(2);
  expect((await stack.platform.db.query('SELECT count(*)::int AS n FROM webhook_outbox WHERE account_id = $1', [accountId])).rows[0].n).toBe(0);
});
