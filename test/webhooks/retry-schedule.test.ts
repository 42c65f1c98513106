import { startTestStack, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { numberedActivity, recordActivities } from './activities';

let stack: TestStack;
let receiver: WebhookReceiver;
// Moves the platform's clock (not the real one): SQS retention is judged by it.
let clockOffsetMs = 0;

beforeAll(async () => {
  // One-second base unit: the schedule 1, 2, 4, 8 … runs in seconds instead of minutes.
  stack = await startTestStack({
    env: { WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_TIMEOUT_MS: '1000' },
    clock: { now: () => new Date(Date.now() + clockOffsetMs) },
  });
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
  await stack.stop();
});

const posts = () => receiver.requests.filter((request) => request.method === 'POST');

it('spaces the retries of a failing lane 1, 2, 4, 8 base units apart', async () => {
  const account = await stack.createAccount();
  await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url });
  receiver.failNext(4, { status: 500 });
  await recordActivities(stack, account.accountId, [numberedActivity(1)]);
  await receiver.waitFor(() => receiver.accepted().length === 1);

  const times = posts().map((post) => post.receivedAt);
  expect(posts().map((post) => post.answered)).toEqual([500, 500, 500, 500, 200]);
  const gaps = times.slice(1).map((time, index) => (time - times[index]!) / 1000);
  // ±10 % jitter, rounded to whole seconds by SQS, plus up to one long-poll wait of the local poller.
  [1, 2, 4, 8].forEach((expected, index) => {
    expect(gaps[index]).toBeGreaterThanOrEqual(Math.round(expected * 0.9) - 0.05);
    expect(gaps[index]).toBeLessThan(Math.round(expected * 1.1) + 1.5);
  });
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
  expect(receiver.acceptedActivities().map((activity) => activity.email)).toEqual(['n1@example.com', 'n2@example.com', 'n3@example.com', 'n4@example.com']);
  // The dispatcher clears the outbox once the receiver's answer is in, just after the receiver saw the POST.
  await waitUntil(async () => (await webhook()).pendingActivities === 0, 'the delivered activities leaving the outbox');
  expect(await webhook()).toMatchObject({ state: 'active', pendingActivities: 0, consecutiveFailures: 0 });
});
