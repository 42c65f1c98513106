/**
 * The platform measures seed 001's promise itself: deliveries, failures, and the lag from an
 * activity's commit to its POST answered 200, left out for a lane in backoff (a customer's
 * failing endpoint is not platform lag). Read from the local runtime's in-memory metrics,
 * which receive exactly what the EMF adapter writes on AWS.
 */
import type { MemoryMetrics } from '../../shared/adapters/local/memory-metrics';
import { waitUntil } from '../support/wait-until';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { numberedActivity, recordActivities } from './activities';

let stack: TestStack;
let metrics: MemoryMetrics;
let receiver: WebhookReceiver;

beforeAll(async () => {
  stack = await startTestStack({ env: { WEBHOOK_RETRY_BASE_SECONDS: '0', WEBHOOK_TIMEOUT_MS: '1000' } });
  metrics = stack.platform.metrics as MemoryMetrics;
});
afterAll(() => stack.stop());
beforeEach(async () => {
  receiver = await startWebhookReceiver();
});
afterEach(() => receiver.close());

async function accountWithWebhook(): Promise<TestAccount> {
  const account = await stack.createAccount();
  expect((await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url })).status).toBe(200);
  return account;
}

const count = (name: Parameters<MemoryMetrics['total']>[0]) => metrics.recorded.filter((metric) => metric.name === name).length;

describe('webhook metrics', () => {
  it('count a delivery and its lag from commit to the 200', async () => {
    const account = await accountWithWebhook();
    const before = { deliveries: metrics.total('WebhookDeliveries'), lags: count('WebhookDeliveryLagSeconds') };
    const committed = Date.now();
    await recordActivities(stack, account.accountId, [numberedActivity(1)]);
    await receiver.waitFor(() => receiver.accepted().length === 1);
    // The 200 reaches the receiver before the dispatcher records it.
    await waitUntil(() => Promise.resolve(metrics.total('WebhookDeliveries') > before.deliveries), 'the delivery is counted');
    expect(metrics.total('WebhookDeliveries') - before.deliveries).toBe(1);
    const lags = metrics.recorded.filter((metric) => metric.name === 'WebhookDeliveryLagSeconds').slice(before.lags);
    expect(lags).toHaveLength(1);
    expect(lags[0]!.value).toBeGreaterThanOrEqual(0);
    expect(lags[0]!.value).toBeLessThanOrEqual((Date.now() - committed) / 1000 + 1);
  });

  it('count each failed POST, and no lag for the delivery that ends a backoff', async () => {
    const account = await accountWithWebhook();
    receiver.failNext(2, { status: 500 });
    const before = {
      deliveries: metrics.total('WebhookDeliveries'),
      failures: metrics.total('WebhookDeliveryFailures'),
      lags: count('WebhookDeliveryLagSeconds'),
    };
    await recordActivities(stack, account.accountId, [numberedActivity(2)]);
    await receiver.waitFor(() => receiver.accepted().length === 1);
    await waitUntil(() => Promise.resolve(metrics.total('WebhookDeliveries') > before.deliveries), 'the delivery is counted');
    expect(metrics.total('WebhookDeliveryFailures') - before.failures).toBe(2);
    expect(metrics.total('WebhookDeliveries') - before.deliveries).toBe(1);
    expect(count('WebhookDeliveryLagSeconds') - before.lags).toBe(0);
  });
});

describe('API metrics', () => {
  it('count calls per method group', async () => {
    const account = await stack.createAccount();
    const before = { general: metrics.total('ApiCalls', 'general'), contactsRead: metrics.total('ApiCalls', 'contactsRead') };
    await stack.request(account, 'GET', '/api/v1/version');
    await stack.request(account, 'GET', '/api/v1/contacts?maxrows=1');
    await stack.request(account, 'GET', '/api/v1/contacts?maxrows=1');
    expect([metrics.total('ApiCalls', 'general') - before.general, metrics.total('ApiCalls', 'contactsRead') - before.contactsRead]).toEqual([1, 2]);
  });
});
