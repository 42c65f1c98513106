import { createHandler as createSweep } from '../../functions/relay-webhook-outbox/handler';
import { lambdaContext } from '../../local/lambda-context';
import { withTransaction } from '../../shared/store/transaction';
import { publishRecordedActivities, relayPendingOutboxes } from '../../shared/webhooks/outbox';
import { eventually } from '../exports/connectors';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

let stack: TestStack;
let receiver: WebhookReceiver;
let account: TestAccount;
let contactId: number;

beforeAll(async () => {
  stack = await startTestStack({ env: { WEBHOOK_RETRY_BASE_SECONDS: '1' } });
  receiver = await startWebhookReceiver();
  account = await stack.createAccount();
  const created = await stack.request(account, 'POST', '/api/v1/contact', {
    externalCustomerId: 'ext-sweep',
    channels: [{ type: 'email', value: 'sweep@example.com' }],
  });
  contactId = created.body.id;
  expect((await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url })).status).toBe(200);
});
afterAll(async () => {
  await receiver.close();
  await stack.stop();
});

it('delivers an activity recorded through the activities API', async () => {
  const recorded = await stack.request(account, 'POST', '/api/v1/activities', [
    {
      contactId,
      activityStatus: 'CLICKED',
      mediaType: 'email',
      activityDateTime: '2026-01-01T10:00:00Z',
      clickEventLink: 'https://shop.example/sale',
    },
  ]);
  expect(recorded.status).toBe(200);
  await receiver.waitFor(() => receiver.acceptedActivities().length === 1);
  expect(receiver.acceptedActivities()[0]).toMatchObject({
    contactId,
    externalCustomerId: 'ext-sweep',
    email: 'sweep@example.com',
    activityStatus: 'CLICKED',
    clickEventLink: 'https://shop.example/sale',
  });
});

it('relays committed activities whose relay never happened, on the next sweep', async () => {
  // Committed and published, but the process died before relaying: the outbox holds them.
  await withTransaction(stack.platform.db, async (client) => {
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO contact_activities (account_id, contact_id, activity_status, media_type, occurred_at, email)
       VALUES ($1, $2, 'DELIVERED', 'email', now(), 'sweep@example.com') RETURNING id`,
      [account.accountId, contactId],
    );
    await publishRecordedActivities(
      client,
      account.accountId,
      rows.map((row) => row.id),
    );
  });
  expect(receiver.acceptedActivities()).toHaveLength(1);

  await createSweep(stack.platform)({ source: 'test', 'detail-type': 'webhookOutbox', detail: {} }, lambdaContext('sweep', 60_000));
  await receiver.waitFor(() => receiver.acceptedActivities().length === 2);
  expect(receiver.acceptedActivities()[1]).toMatchObject({ activityStatus: 'DELIVERED', contactId });

  // The dispatcher deletes the row once the receiver has answered; then a second sweep has nothing to queue.
  await eventually(async () => {
    const { rows } = await stack.platform.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_outbox WHERE account_id = $1', [
      account.accountId,
    ]);
    return rows[0]!.n === 0 ? true : undefined;
  });
  expect(await relayPendingOutboxes(stack.platform)).toBe(0);
});

it('never queues an activity of another account, or one that does not exist, for this account’s receiver', async () => {
  const other = await stack.createAccount();
  const before = receiver.acceptedActivities().length;
  await withTransaction(stack.platform.db, async (client) => {
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO contact_activities (account_id, activity_status, media_type, occurred_at, email)
       VALUES ($1, 'DELIVERED', 'email', now(), 'someone-else@example.com') RETURNING id`,
      [other.accountId],
    );
    await publishRecordedActivities(client, account.accountId, [rows[0]!.id, Number.MAX_SAFE_INTEGER]);
  });
  await createSweep(stack.platform)({ source: 'test', 'detail-type': 'webhookOutbox', detail: {} }, lambdaContext('sweep', 60_000));

  const { rows } = await stack.platform.db.query('SELECT count(*)::int AS n FROM webhook_outbox');
  expect(rows[0].n).toBe(0);
  expect(receiver.acceptedActivities()).toHaveLength(before);
});
