import { startTestStack, type TestStack } from '../support/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

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

describe('GET /api/v1/contacts/activity and the webhook POST', () => {
  it('show one stored activity the same way: same fields, same values, same order', async () => {
    const account = await stack.createAccount();
    expect((await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url })).status).toBe(200);
    const contact = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'shape-1',
      channels: [{ type: 'email', value: 'shape@example.com' }],
    });
    const contactId = contact.body.id as number;

    // Each activity carries every status-bound field, so the presence rules have something to drop.
    const statusBound = {
      clickEventLink: 'https://shop.example.com/p/1',
      statusDescription: '5.1.2 (bad destination system: no such domain)',
      hardBounce: true,
    };
    const recorded = await stack.request(account, 'POST', '/api/v1/activities', [
      {
        activityStatus: 'DELIVERED',
        mediaType: 'email',
        contactId,
        messageId: 2489300,
        broadcastId: 3459207,
        activityDateTime: '2023-09-14T08:30:03.456Z',
        ...statusBound,
      },
      {
        activityStatus: 'CLICKED',
        mediaType: 'email',
        contactId,
        messageId: 2489300,
        activityDateTime: '2023-09-14T08:31:00',
        viewMessageLink: 'https://example.com/view/1',
        ...statusBound,
      },
      {
        activityStatus: 'UNDELIVERED',
        mediaType: 'email',
        contactId,
        messageId: 2489300,
        messageTag: 'tag2,tag',
        activityDateTime: '2023-09-14T08:32:00',
        statusDescription: statusBound.statusDescription,
        clickEventLink: statusBound.clickEventLink,
      },
      {
        activityStatus: 'SUBSCRIPTION_CHANGED',
        mediaType: 'email',
        contactId,
        activityDateTime: '2023-09-14T08:33:00',
        subscriptions: ['news', 'sale'],
      },
    ]);
    expect(recorded.status).toBe(200);
    await receiver.waitFor(() => receiver.acceptedActivities().length === 4);

    const listed = await stack.request(account, 'GET', '/api/v1/contacts/activity?dateFrom=2023-09-14T00:00:00&dateTo=2023-09-15T00:00:00');
    expect(listed.status).toBe(200);
    // Key order included: a receiver may compare the two byte for byte.
    expect(JSON.stringify(listed.body)).toBe(JSON.stringify(receiver.acceptedActivities()));

    const who = { contactId, externalCustomerId: 'shape-1', email: 'shape@example.com', mediaType: 'email' };
    const iid = expect.stringMatching(/^[0-9a-f-]{36}$/);
    expect(listed.body).toEqual([
      { broadcastId: 3459207, iid, ...who, activityStatus: 'DELIVERED', messageId: 2489300, activityDateTime: '2023-09-14T08:30:03', statusData: {} },
      {
        iid,
        ...who,
        activityStatus: 'CLICKED',
        messageId: 2489300,
        activityDateTime: '2023-09-14T08:31:00',
        clickEventLink: 'https://shop.example.com/p/1',
        viewMessageLink: 'https://example.com/view/1',
        statusData: {},
      },
      // hardBounce was not reported: seed 001 sends false for an UNDELIVERED activity.
      {
        hardBounce: false,
        iid,
        ...who,
        activityStatus: 'UNDELIVERED',
        messageId: 2489300,
        messageTag: 'tag2,tag',
        activityDateTime: '2023-09-14T08:32:00',
        statusDescription: '5.1.2 (bad destination system: no such domain)',
        statusData: {},
      },
      {
        iid,
        ...who,
        activityStatus: 'SUBSCRIPTION_CHANGED',
        activityDateTime: '2023-09-14T08:33:00',
        subscriptons: ['news', 'sale'],
        statusData: {},
      },
    ]);
  });
});
