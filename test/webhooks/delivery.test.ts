import { Webhook } from 'standardwebhooks';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { bulkExample, numberedActivity, recordActivities, triggeredExample } from './activities';

let stack: TestStack;

beforeAll(async () => {
  // Retries come back at once (base 0) and a hung receiver gives up after 1 s, so failures are quick to drive.
  stack = await startTestStack({ env: { WEBHOOK_RETRY_BASE_SECONDS: '0', WEBHOOK_TIMEOUT_MS: '1000' } });
});
afterAll(() => stack.stop());

async function accountWithWebhook(receiver: WebhookReceiver): Promise<{ account: TestAccount; secret: string }> {
  const account = await stack.createAccount();
  const response = await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url });
  expect(response.status).toBe(200);
  return { account, secret: response.body.secret as string };
}

const emailsOf = (activities: Record<string, unknown>[]) => activities.map((activity) => activity.email);

describe('what a receiver gets', () => {
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(() => receiver.close());

  it.each([
    ['bulk', bulkExample],
    ['triggered', triggeredExample],
  ])('POSTs seed 001 %s example as exactly that JSON array, signed with Standard Webhooks headers', async (_, example) => {
    const { account, secret } = await accountWithWebhook(receiver);
    await recordActivities(stack, account.accountId, example);
    await receiver.waitFor(() => receiver.accepted().length === 1);

    const [post] = receiver.accepted();
    // Same keys, same order, same values, nothing extra: the seed's own array byte for byte.
    expect(JSON.stringify(JSON.parse(post!.body))).toBe(JSON.stringify(example));
    expect(post!.headers['content-type']).toBe('application/json');
    const verified = new Webhook(secret).verify(post!.body, post!.headers);
    expect(verified).toEqual(example);
  });

  it('verifies the URL with a GET before anything is POSTed', async () => {
    await accountWithWebhook(receiver);
    expect(receiver.requests.map((request) => request.method)).toEqual(['GET']);
  });

  it('signs with both secrets for a day after a rotation, so either verifies', async () => {
    const { account, secret: old } = await accountWithWebhook(receiver);
    const rotated = await stack.request(account, 'POST', '/api/v1/webhook/secret');
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(old);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    await recordActivities(stack, account.accountId, [numberedActivity(1)]);
    await receiver.waitFor(() => receiver.accepted().length === 1);
    const [post] = receiver.accepted();
    expect(post!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [old, rotated.body.secret as string]) expect(() => new Webhook(secret).verify(post!.body, post!.headers)).not.toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(post!.body, post!.headers)).toThrow();
  });
});

describe('order under failure', () => {
  it('keeps 50 later activities behind a failing first one; after 5 failures all arrive once, in order', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { account } = await accountWithWebhook(receiver);
      receiver.failNext(5, { status: 500 });
      await recordActivities(stack, account.accountId, [numberedActivity(0)]);
      // Each later activity in its own transaction, so each is its own queue message.
      for (let index = 1; index <= 50; index += 1) await recordActivities(stack, account.accountId, [numberedActivity(index)]);
      await receiver.waitFor(() => receiver.acceptedActivities().length >= 51);

      expect(emailsOf(receiver.acceptedActivities())).toEqual(Array.from({ length: 51 }, (_, index) => `n${index}@example.com`));
      const posts = receiver.requests.filter((request) => request.method === 'POST');
      expect(posts.slice(0, 6).map((post) => post.answered)).toEqual([500, 500, 500, 500, 500, 200]);
      // Every failed POST carried the first activity, and nothing jumped ahead of it.
      for (const post of posts.slice(0, 5)) expect(emailsOf(JSON.parse(post.body))[0]).toBe('n0@example.com');

      const attempts = await stack.request(account, 'GET', '/api/v1/webhook/attempts?limit=500');
      expect(attempts.status).toBe(200);
      const oldestFirst = [...attempts.body.attempts].reverse();
      expect(oldestFirst.slice(0, 6).map((attempt: { statusCode: number }) => attempt.statusCode)).toEqual([500, 500, 500, 500, 500, 200]);
      expect(oldestFirst[0]).toMatchObject({
        delivered: false,
        responseExcerpt: 'failing with 500',
        activityCount: 1,
        latencyMs: expect.any(Number),
      });
      // The dispatcher clears the outbox once the receiver's answer is in, just after the receiver saw the POST.
      const webhook = async () => (await stack.request(account, 'GET', '/api/v1/webhook')).body;
      await waitUntil(async () => (await webhook()).pendingActivities === 0, 'the delivered activities leaving the outbox');
      expect(await webhook()).toMatchObject({ consecutiveFailures: 0, pendingActivities: 0 });
    } finally {
      await receiver.close();
    }
  });

  it.each([
    ['a timeout', { kind: 'timeout' } as const, 'TIMEOUT'],
    ['a reset connection', { kind: 'reset' } as const, 'CONNECTION_RESET'],
    ['a refused connection', undefined, 'CONNECTION_REFUSED'],
  ])('retries after %s and logs why', async (_, failure, code) => {
    const receiver = await startWebhookReceiver();
    try {
      const { account } = await accountWithWebhook(receiver);
      if (failure) {
        receiver.failNext(1, failure);
      } else {
        // Point the webhook at a closed port behind the verified URL's back.
        await stack.platform.db.query(`UPDATE webhook_endpoints SET url = 'http://127.0.0.1:1/hooks' WHERE account_id = $1`, [account.accountId]);
      }
      await recordActivities(stack, account.accountId, [numberedActivity(7)]);
      const logged = async () => (await stack.request(account, 'GET', '/api/v1/webhook/attempts')).body.attempts as { error?: string }[];
      for (let tries = 0; !(await logged()).some((attempt) => attempt.error?.startsWith(code)); tries += 1) {
        if (tries > 200) throw new Error('failure never logged');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!failure) await stack.platform.db.query(`UPDATE webhook_endpoints SET url = $2 WHERE account_id = $1`, [account.accountId, receiver.url]);
      await receiver.waitFor(() => receiver.accepted().length === 1);
      expect(emailsOf(receiver.acceptedActivities())).toEqual(['n7@example.com']);
    } finally {
      await receiver.close();
    }
  });

  it('does not hold one account back while another account’s receiver is down', async () => {
    const down = await startWebhookReceiver();
    const up = await startWebhookReceiver();
    try {
      const broken = await accountWithWebhook(down);
      const healthy = await accountWithWebhook(up);
      down.failAlways({ status: 503 });
      await recordActivities(stack, broken.account.accountId, [numberedActivity(1)]);
      await down.waitFor(() => down.requests.filter((request) => request.method === 'POST').length >= 3);
      for (let index = 0; index < 5; index += 1) await recordActivities(stack, healthy.account.accountId, [numberedActivity(index)]);
      await up.waitFor(() => up.acceptedActivities().length === 5);
      expect(emailsOf(up.acceptedActivities())).toEqual(['n0@example.com', 'n1@example.com', 'n2@example.com', 'n3@example.com', 'n4@example.com']);
      expect(down.accepted()).toHaveLength(0);
      down.recover();
      await down.waitFor(() => down.acceptedActivities().length === 1);
    } finally {
      await down.close();
      await up.close();
    }
  });
});

describe('redelivery and stopping', () => {
  it('redelivers an activity by id, behind what is waiting, and refuses ids of other accounts', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { account } = await accountWithWebhook(receiver);
      const [first] = await recordActivities(stack, account.accountId, [numberedActivity(1)]);
      await receiver.waitFor(() => receiver.accepted().length === 1);
      const again = await stack.request(account, 'POST', '/api/v1/webhook/redeliver', { activityIds: [first] });
      expect(again.status).toBe(202);
      expect(again.body).toEqual({ queued: 1 });
      await receiver.waitFor(() => receiver.accepted().length === 2);
      expect(receiver.accepted()[1]!.body).toBe(receiver.accepted()[0]!.body);

      const other = await stack.createAccount();
      const [foreign] = await recordActivities(stack, other.accountId, [numberedActivity(2)]);
      const refused = await stack.request(account, 'POST', '/api/v1/webhook/redeliver', { activityIds: [foreign] });
      expect(refused.status).toBe(404);
      expect(refused.body.error.code).toBe('ACTIVITY_NOT_FOUND');
    } finally {
      await receiver.close();
    }
  });

  it('stops delivering after DELETE, and records nothing for accounts without a webhook', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { account } = await accountWithWebhook(receiver);
      receiver.failAlways({ status: 500 });
      await recordActivities(stack, account.accountId, [numberedActivity(1)]);
      await receiver.waitFor(() => receiver.requests.some((request) => request.method === 'POST'));
      expect((await stack.request(account, 'DELETE', '/api/v1/webhook')).status).toBe(204);
      await recordActivities(stack, account.accountId, [numberedActivity(2)]);
      const outbox = await stack.platform.db.query('SELECT count(*)::int AS n FROM webhook_outbox WHERE account_id = $1', [account.accountId]);
      expect(outbox.rows[0].n).toBe(0);
      // A marker account proves the queue kept flowing past the deleted lane. The receiver
      // recovers only after the marker's first delivery: an attempt already under way when
      // the DELETE landed may still arrive (and fail) before then, but nothing may after.
      const marker = await startWebhookReceiver();
      const { account: markerAccount } = await accountWithWebhook(marker);
      await recordActivities(stack, markerAccount.accountId, [numberedActivity(3)]);
      await marker.waitFor(() => marker.accepted().length === 1);
      receiver.recover();
      await recordActivities(stack, markerAccount.accountId, [numberedActivity(4)]);
      await marker.waitFor(() => marker.accepted().length === 2);
      await marker.close();
      expect(receiver.accepted()).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });
});
