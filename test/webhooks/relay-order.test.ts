import type { PoolClient } from 'pg';
import { publishRecordedActivities, relayWebhookOutbox } from '../../shared/webhooks/outbox';
import { startTestStack, type TestStack } from '../support/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { waitUntilLockWait } from '../support/wait-until';

let stack: TestStack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  stack = await startTestStack();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
  await stack.stop();
});

async function recordIn(client: PoolClient, accountId: number, email: string): Promise<void> {
  const { rows } = await client.query<{ id: number }>(
    `INSERT INTO contact_activities (account_id, activity_status, media_type, occurred_at, email)
     VALUES ($1, 'DELIVERED', 'email', now(), $2) RETURNING id`,
    [accountId, email],
  );
  await publishRecordedActivities(
    client,
    accountId,
    rows.map((row) => row.id),
  );
}

it('a relay that waits for an open recording transaction queues its activity ahead of later-committed ones', async () => {
  const account = await stack.createAccount();
  expect((await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url })).status).toBe(200);
  const early = await stack.platform.db.connect();
  const late = await stack.platform.db.connect();
  try {
    // The early transaction draws the first outbox id and stays open; a later one commits.
    await early.query('BEGIN');
    await recordIn(early, account.accountId, 'early@example.com');
    await late.query('BEGIN');
    await recordIn(late, account.accountId, 'late@example.com');
    await late.query('COMMIT');

    const relay = relayWebhookOutbox(stack.platform, account.accountId);
    // The relay waits for the early transaction's lock on the endpoint.
    await waitUntilLockWait(stack.platform.db, 'the relay waiting for the open transaction');
    await early.query('COMMIT');

    // Both rows go out in this relay, the early one first; none is left for a later relay.
    expect(await relay).toBe(2);
    await receiver.waitFor(() => receiver.acceptedActivities().length >= 2);
    expect(receiver.acceptedActivities().map((activity) => activity.email)).toEqual(['early@example.com', 'late@example.com']);
  } finally {
    early.release();
    late.release();
  }
});
