import { createHandler as createDeliverWebhooksHandler } from '../../functions/deliver-webhooks/handler';
import { SqsPoller } from '../../local/sqs-poller';
import type { Queue } from '../../shared/ports/queue';
import { queues } from '../../shared/topology';
import { FakeClock } from '../support/fake-clock';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { numberedActivity, recordActivities } from './activities';

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
});

const posts = () => receiver.requests.filter((request) => request.method === 'POST');

describe('on the fake clock', () => {
  let stack: TestStack;
  let dispatcher: SqsPoller;
  const clock = new FakeClock();
  /** Each backoff the dispatcher asked SQS for, in seconds. */
  const delays: number[] = [];
  /** What GET /api/v1/webhook answered while each backoff was being asked for, and the clock then. */
  const whileWaiting: { at: number; webhook: Record<string, unknown> }[] = [];
  let watched: TestAccount | undefined;

  beforeAll(async () => {
    // The default base unit (a minute): the schedule runs in platform time, not wall time.
    stack = await startTestStack({ background: false, clock, env: { WEBHOOK_TIMEOUT_MS: '1000' } });
    // The dispatcher as Lambda runs it, except that the backoff it asks of SQS passes on the
    // fake clock: the clock moves by the delay and the message comes back at once.
    const queue: Queue = {
      send: (name, messages) => stack.platform.queue.send(name, messages),
      delayRedelivery: async (name, receiptHandles, seconds) => {
        delays.push(seconds);
        if (watched) whileWaiting.push({ at: clock.now().getTime(), webhook: (await stack.request(watched, 'GET', '/api/v1/webhook')).body });
        clock.advanceSeconds(seconds);
        await stack.platform.queue.delayRedelivery(name, receiptHandles, 0);
      },
    };
    dispatcher = new SqsPoller({
      endpoint: process.env.SATELLITE_TEST_SQS_ENDPOINT ?? '',
      queueUrl: stack.queueUrls.webhooks,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:webhooks.fifo',
      functionName: queues.webhooks.worker,
      consumer: createDeliverWebhooksHandler({ ...stack.platform, queue }),
      batchSize: queues.webhooks.batchSize,
      timeoutMs: queues.webhooks.workerTimeoutSeconds * 1000,
      concurrency: 1,
    });
    dispatcher.start();
  });
  afterAll(async () => {
    await dispatcher.stop();
    await stack.stop();
  });

  it('spaces the retries of a failing lane 1, 2, 4, 8 minutes apart (±10 %)', async () => {
    const account = await stack.createAccount();
    watched = account;
    await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url });
    receiver.failNext(4, { status: 500 });
    await recordActivities(stack, account.accountId, [numberedActivity(1)]);
    await receiver.waitFor(() => receiver.accepted().length === 1);
    expect(posts().map((post) => post.answered)).toEqual([500, 500, 500, 500, 200]);

    // The attempt log, written at the platform's time, shows the gaps the receiver saw.
    await waitUntil(
      async () => (await stack.request(account, 'GET', '/api/v1/webhook/attempts')).body.attempts.length === 5,
      'the delivery being logged',
    );
    const { attempts } = (await stack.request(account, 'GET', '/api/v1/webhook/attempts')).body as { attempts: { attemptedAt: string }[] };
    const times = attempts.map((attempt) => Date.parse(attempt.attemptedAt)).sort((a, b) => a - b);
    const gaps = times.slice(1).map((time, index) => (time - times[index]!) / 1000);
    expect(gaps).toEqual(delays);
    [60, 120, 240, 480].forEach((expected, index) => {
      expect(gaps[index]).toBeGreaterThanOrEqual(Math.round(expected * 0.9));
      expect(gaps[index]).toBeLessThanOrEqual(Math.round(expected * 1.1));
    });

    // While each retry waited, GET answered the failure streak, when the retry comes and the schedule.
    expect(whileWaiting.map(({ at, webhook }) => [webhook.consecutiveFailures, Date.parse(webhook.nextAttemptAt as string) - at])).toEqual(
      delays.map((delay, index) => [index + 1, delay * 1000]),
    );
    expect(whileWaiting[0]!.webhook.retrySchedule).toEqual({
      delaysSeconds: [60, 120, 240, 480, 960, 1920],
      thenEverySeconds: 3600,
      jitterRatio: 0.1,
    });
    // Delivered: nothing is waiting any more.
    await waitUntil(async () => (await stack.request(account, 'GET', '/api/v1/webhook')).body.consecutiveFailures === 0, 'the streak ending');
    expect((await stack.request(account, 'GET', '/api/v1/webhook')).body).not.toHaveProperty('nextAttemptAt');
  });
});

describe('near the end of SQS retention', () => {
  let stack: TestStack;
  // Moves the platform's clock (not the real one): SQS retention is judged by it.
  let clockOffsetMs = 0;

  beforeAll(async () => {
    // One-second base unit, so the first retry comes back within the test.
    stack = await startTestStack({
      env: { WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_TIMEOUT_MS: '1000' },
      clock: { now: () => new Date(Date.now() + clockOffsetMs) },
    });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('parks a lane in the store before SQS retention would drop it, and replays it in order on resume', async () => {
    receiver.requests.length = 0;
    const account = await stack.createAccount();
    await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url });
    receiver.failAlways({ status: 502 });
    await recordActivities(stack, account.accountId, [numberedActivity(1)]);
    const webhook = async () => (await stack.request(account, 'GET', '/api/v1/webhook')).body;
    // The first failure is scheduled for a retry (not parked) before the clock moves.
    await waitUntil(async () => (await webhook()).consecutiveFailures === 1, 'the first failure being counted');
    // Thirteen days and more of failures later, the next retry would outlive SQS's 14 days.
    clockOffsetMs = 14 * 24 * 3600 * 1000;
    await receiver.waitFor(() => posts().length === 2);
    await waitUntil(async () => (await webhook()).state === 'suspended', 'the lane being parked', 10_000);
    // While suspended, new activities wait in the store behind the parked one.
    await recordActivities(stack, account.accountId, [numberedActivity(2)]);
    await recordActivities(stack, account.accountId, [numberedActivity(3), numberedActivity(4)]);
    expect(await webhook()).toMatchObject({ state: 'suspended', pendingActivities: 4, suspendedReason: expect.any(String) });
    expect(posts()).toHaveLength(2);

    receiver.recover();
    const resumed = await stack.request(account, 'POST', '/api/v1/webhook/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body).toEqual({ replayed: 4 });
    await receiver.waitFor(() => receiver.acceptedActivities().length >= 4);
    expect(receiver.acceptedActivities().map((activity) => activity.email)).toEqual([
      'n1@example.com',
      'n2@example.com',
      'n3@example.com',
      'n4@example.com',
    ]);
    // The dispatcher clears the outbox once the receiver's answer is in, just after the receiver saw the POST.
    await waitUntil(async () => (await webhook()).pendingActivities === 0, 'the delivered activities leaving the outbox');
    expect(await webhook()).toMatchObject({ state: 'active', pendingActivities: 0, consecutiveFailures: 0 });
  });
});
