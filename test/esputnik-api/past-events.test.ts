import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

/** past_events: history with its own timestamps, listed by GET /events, deletable by type, key and period. */
let stack: TestStack;
let account: TestAccount;

beforeAll(async () => {
  stack = await startTestStack();
  account = await stack.createAccount();
});
afterAll(() => stack.stop());

describe('POST and DELETE past_events', () => {
  it('records events at their own times, linked to their contacts, and deletes them by key and period', async () => {
    const buyer = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'buyer@example.com' }] });
    const recorded = await stack.request(account, 'POST', '/api/v1/past_events', {
      events: [
        {
          eventTypeKey: 'orderCreated',
          keyValue: 'buyer@example.com',
          occurred: '2020-05-14T10:11',
          params: [
            { name: 'email', value: 'buyer@example.com' },
            { name: 'items', value: [{ externalItemId: 'A1', quantity: 2 }] },
          ],
        },
        { eventTypeKey: 'orderCreated', keyValue: 'buyer@example.com', occurred: '2022-01-03', params: [{ name: 'totalCost', value: 258.0 }] },
        { eventTypeKey: 'orderCreated', keyValue: 'other@example.com', occurred: '2021-07-01' },
      ],
    });
    expect(recorded.status).toBe(200);
    expect(recorded.body.events).toHaveLength(3);
    expect(recorded.body.events[0]).toMatchObject({ contactId: buyer.body.id });
    expect(recorded.body.events[2]).toMatchObject({ contactId: null });

    const listed = await stack.request(account, 'GET', '/api/v1/events?eventTypeKey=orderCreated');
    expect(listed.body.map((event: { occurredAt: string }) => event.occurredAt)).toEqual([
      '2020-05-14T10:11:00.000Z',
      '2021-07-01T00:00:00.000Z',
      '2022-01-03T00:00:00.000Z',
    ]);
    expect(listed.body[0].params).toEqual([
      { name: 'email', value: 'buyer@example.com' },
      { name: 'items', value: '[{"externalItemId":"A1","quantity":2}]' },
    ]);
    // Marked as history: nothing that reacts to new events takes them for new ones.
    const marked = await stack.platform.db.query('SELECT bool_and(imported) AS imported FROM events WHERE account_id = $1', [account.accountId]);
    expect(marked.rows[0].imported).toBe(true);

    const deleted = await stack.request(
      account,
      'DELETE',
      '/api/v1/past_events?eventTypeKey=orderCreated&keyValue=buyer@example.com&dateFrom=2021-01-01&dateTo=2022-12-31',
    );
    expect(deleted.body).toEqual({ deleted: 1 });
    expect((await stack.request(account, 'GET', '/api/v1/events?eventTypeKey=orderCreated')).body).toHaveLength(2);
  });

  it('refuses a bad batch whole, and keeps the right to events', async () => {
    const bad = await stack.request(account, 'POST', '/api/v1/past_events', {
      events: [
        { eventTypeKey: 'visit', keyValue: 'a@example.com', occurred: '2023-01-01' },
        { eventTypeKey: 'visit', keyValue: 'a@example.com', occurred: '2023-02-30' },
      ],
    });
    expect(bad.status).toBe(400);
    expect((await stack.request(account, 'GET', '/api/v1/events?eventTypeKey=visit')).body).toEqual([]);
    expect(
      (
        await stack.request(account, 'POST', '/api/v1/past_events', {
          events: Array.from({ length: 501 }, () => ({ eventTypeKey: 'v', keyValue: 'k', occurred: '2023-01-01' })),
        })
      ).status,
    ).toBe(400);
    expect((await stack.request(account, 'DELETE', '/api/v1/past_events')).status).toBe(400);

    const eventsOnly = await stack.createAccount({ rights: 'events' });
    expect(
      (await stack.request(eventsOnly, 'POST', '/api/v1/past_events', { events: [{ eventTypeKey: 'v', keyValue: 'k', occurred: '2023-01-01' }] }))
        .status,
    ).toBe(200);
    const messagesOnly = await stack.createAccount({ rights: 'messages' });
    expect(
      (await stack.request(messagesOnly, 'POST', '/api/v1/past_events', { events: [{ eventTypeKey: 'v', keyValue: 'k', occurred: '2023-01-01' }] }))
        .status,
    ).toBe(403);
  });
});
