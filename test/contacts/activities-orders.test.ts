import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { bulkExample } from '../webhooks/activities';

let stack: TestStack;
let account: TestAccount;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
});
afterAll(() => stack.stop());

async function newContact(owner: TestAccount, externalCustomerId: string, email: string): Promise<number> {
  const response = await stack.request(owner, 'POST', '/api/v1/contact', { externalCustomerId, channels: [{ type: 'email', value: email }] });
  expect(response.status).toBe(200);
  return response.body.id as number;
}

describe('POST /api/v1/activities', () => {
  it('records activities in seed 001 shape, finds contacts by any identifier and updates their statistics', async () => {
    const id = await newContact(account, 'act-1', 'act1@example.com');
    const response = await stack.request(account, 'POST', '/api/v1/activities', [
      {
        activityStatus: 'SENT',
        mediaType: 'email',
        contactId: id,
        messageId: 2489300,
        broadcastId: 3459207,
        activityDateTime: '2023-09-14T08:30:00',
      },
      {
        activityStatus: 'DELIVERED',
        mediaType: 'email',
        externalCustomerId: 'act-1',
        messageId: 2489300,
        messageInstanceId: 4702518,
        messageName: 'test',
        broadcastId: 3459207,
        activityDateTime: '2023-09-14T08:30:03',
        viewMessageLink: 'https://example.com/view/1',
        statusData: {},
      },
      { activityStatus: 'RECEIVED', mediaType: 'email', email: 'ACT1@example.com', activityDateTime: '2023-09-14T09:00:00Z' },
      {
        activityStatus: 'CLICKED',
        mediaType: 'email',
        contactId: id,
        clickEventLink: 'https://shop.example.com/p/1',
        activityDateTime: '2023-09-14T09:01:00Z',
      },
      {
        activityStatus: 'CLICKED',
        mediaType: 'email',
        contactId: id,
        clickEventLink: 'https://shop.example.com/p/2',
        activityDateTime: '2023-09-14T08:59:00Z',
      },
    ]);
    expect(response.status).toBe(200);
    expect(response.body.ids).toHaveLength(5);
    expect([...response.body.ids].sort((a: number, b: number) => a - b)).toEqual(response.body.ids);

    const contact = (
      await stack.platform.db.query(
        'SELECT total_sent, total_received, total_viewed, total_clicked, last_sent_at, last_received_at, last_viewed_at, last_clicked_at FROM contacts WHERE id = $1',
        [id],
      )
    ).rows[0];
    expect(contact).toMatchObject({ total_sent: 1, total_received: 1, total_viewed: 1, total_clicked: 2 });
    expect(contact.last_clicked_at.toISOString()).toBe('2023-09-14T09:01:00.000Z');
    expect(contact.last_received_at.toISOString()).toBe('2023-09-14T08:30:03.000Z');

    const listed = await stack.request(
      account,
      'GET',
      '/api/v1/contacts/activity?dateFrom=2023-09-01T00:00:00Z&dateTo=2023-09-30T00:00:00Z&email=act1@example.com',
    );
    expect(listed.status).toBe(200);
    expect(listed.body.map((activity: { activityStatus: string }) => activity.activityStatus)).toEqual([
      'SENT',
      'DELIVERED',
      'CLICKED',
      'RECEIVED',
      'CLICKED',
    ]);
    const delivered = listed.body[1];
    expect(delivered).toEqual({
      iid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      activityStatus: 'DELIVERED',
      // Stored as seed 000 spells it (`Email`, for exports), answered as seed 001's examples do.
      mediaType: 'email',
      // Seed 001's form, as the webhook POST sends it: UTC to the second, without a zone.
      activityDateTime: '2023-09-14T08:30:03',
      contactId: id,
      externalCustomerId: 'act-1',
      email: 'act1@example.com',
      messageId: 2489300,
      messageInstanceId: 4702518,
      messageName: 'test',
      broadcastId: 3459207,
      viewMessageLink: 'https://example.com/view/1',
      statusData: {},
    });
    // Fields that do not apply are absent, not null.
    expect(Object.values(delivered)).not.toContain(null);
  });

  it("takes seed 001's bulk example items as they are, keeping the sender's iid", async () => {
    const owner = await stack.createAccount();
    await stack.request(owner, 'POST', '/api/v1/contact', {
      externalCustomerId: '789456512',
      channels: [{ type: 'email', value: 'test1@yourdomain.com' }],
    });
    await stack.request(owner, 'POST', '/api/v1/contact', {
      externalCustomerId: '262ac297-6ae1-11ec-a2ec-0050569bdf92',
      channels: [{ type: 'email', value: 'test2@yourdomain.com' }],
    });
    await stack.request(owner, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'test3@yourdomain.com' }] });
    // The seed's contact ids belong to its own platform: the items name their contacts by the rest.
    const items = bulkExample.map(({ contactId: _, ...item }) => item);
    const response = await stack.request(owner, 'POST', '/api/v1/activities', items);
    expect(response.status).toBe(200);
    expect(response.body.ids).toHaveLength(4);

    const listed = await stack.request(owner, 'GET', '/api/v1/contacts/activity?dateFrom=2023-09-14T00:00:00Z&dateTo=2023-09-15T00:00:00Z');
    expect(listed.body.map((activity: { iid: string }) => activity.iid)).toEqual(bulkExample.map((activity) => activity.iid));
    expect(listed.body.map(({ contactId: _, ...activity }: Record<string, unknown>) => activity)).toEqual(items);
  });

  it('records a report sent again once: same ids, statistics counted once', async () => {
    const id = await newContact(account, 'act-again', 'again@example.com');
    const send = '6f1c2a4e-1d2b-4c3d-8e9f-0a1b2c3d4e5f';
    const reports = [
      { iid: send, activityStatus: 'DELIVERED', mediaType: 'email', contactId: id, activityDateTime: '2023-10-02T08:00:00Z' },
      {
        iid: send,
        activityStatus: 'CLICKED',
        mediaType: 'email',
        contactId: id,
        clickEventLink: 'https://shop.example.com/a',
        activityDateTime: '2023-10-02T08:05:00Z',
      },
      {
        iid: send,
        activityStatus: 'CLICKED',
        mediaType: 'email',
        contactId: id,
        clickEventLink: 'https://shop.example.com/b',
        activityDateTime: '2023-10-02T08:05:00Z',
      },
    ];
    const first = await stack.request(account, 'POST', '/api/v1/activities', reports);
    expect(first.status).toBe(200);
    expect(new Set(first.body.ids).size).toBe(3);
    // The channel retries the call, and repeats one report within the retry.
    const again = await stack.request(account, 'POST', '/api/v1/activities', [reports[1], ...reports, reports[0]]);
    expect(again.status).toBe(200);
    expect(again.body.ids).toEqual([first.body.ids[1], ...first.body.ids, first.body.ids[0]]);

    const contact = (await stack.platform.db.query('SELECT total_received, total_clicked FROM contacts WHERE id = $1', [id])).rows[0];
    expect(contact).toEqual({ total_received: 1, total_clicked: 2 });
    const listed = await stack.request(
      account,
      'GET',
      '/api/v1/contacts/activity?dateFrom=2023-10-01T00:00:00Z&dateTo=2023-10-03T00:00:00Z&externalCustomerId=act-again',
    );
    expect(listed.body).toHaveLength(3);
    // The same new report twice in one call is one report too.
    const twice = {
      iid: '0b5e9c1a-7d2f-4e3a-9c8b-1a2b3c4d5e6f',
      activityStatus: 'RECEIVED',
      mediaType: 'email',
      contactId: id,
      activityDateTime: '2023-10-02T08:10:00Z',
    };
    const doubled = await stack.request(account, 'POST', '/api/v1/activities', [twice, twice]);
    expect(doubled.status).toBe(200);
    expect(doubled.body.ids[0]).toBe(doubled.body.ids[1]);
    expect((await stack.platform.db.query('SELECT total_viewed FROM contacts WHERE id = $1', [id])).rows[0].total_viewed).toBe(1);
    // Without an iid a report cannot be told from a new one: each call records it.
    const anonymous = { activityStatus: 'RECEIVED', mediaType: 'email', contactId: id, activityDateTime: '2023-10-02T09:00:00Z' };
    await stack.request(account, 'POST', '/api/v1/activities', [anonymous]);
    await stack.request(account, 'POST', '/api/v1/activities', [anonymous]);
    expect((await stack.platform.db.query('SELECT total_viewed FROM contacts WHERE id = $1', [id])).rows[0].total_viewed).toBe(3);
  });

  it('finds the contact by a viber number, a mobile push token or a web push token', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'act-app',
      channels: [
        { type: 'viber', value: '+380 95 649 09 55' },
        { type: 'mobilepush', value: 'fcm-token-1' },
        { type: 'webpush', value: 'https://push.example.com/sub/1' },
      ],
    });
    const id = created.body.id as number;
    const recorded = await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'DELIVERED', mediaType: 'viber', viber: '380956490955', activityDateTime: '2023-10-03T08:00:00Z' },
      { activityStatus: 'DELIVERED', mediaType: 'mobilepush', mobilepush: 'fcm-token-1', activityDateTime: '2023-10-03T08:00:01Z' },
      { activityStatus: 'DELIVERED', mediaType: 'webpush', webpush: 'https://push.example.com/sub/1', activityDateTime: '2023-10-03T08:00:02Z' },
    ]);
    expect(recorded.status).toBe(200);
    const rows = (await stack.platform.db.query('SELECT contact_id FROM contact_activities WHERE id = ANY($1::bigint[])', [recorded.body.ids])).rows;
    expect(rows.map((row) => Number(row.contact_id))).toEqual([id, id, id]);

    const unknown = await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'DELIVERED', mediaType: 'viber', viber: '380000000001', activityDateTime: '2023-10-03T08:00:03Z' },
    ]);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ path: 'body.0', message: 'no contact with this viber' }]);
  });

  it('refuses a report dated more than a day ahead, which would freeze the contact’s last dates', async () => {
    const id = await newContact(account, 'act-future', 'future@example.com');
    const soon = new Date(Date.now() + 3600 * 1000).toISOString();
    const years = '2099-01-01T00:00:00Z';
    const response = await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'CLICKED', mediaType: 'email', contactId: id, activityDateTime: soon },
      { activityStatus: 'CLICKED', mediaType: 'email', contactId: id, activityDateTime: years },
    ]);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('ACTIVITY_IN_FUTURE');
    expect(response.body.error.details).toEqual([{ path: 'body.1.activityDateTime', message: expect.any(String) }]);
    const accepted = await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'CLICKED', mediaType: 'email', contactId: id, activityDateTime: soon },
    ]);
    expect(accepted.status).toBe(200);
  });

  it('refuses message and workflow ids beyond 32 bits, which the warehouse export types as int', async () => {
    const id = await newContact(account, 'act-int', 'int@example.com');
    const response = await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'DELIVERED', mediaType: 'email', contactId: id, messageInstanceId: 2_147_483_648, activityDateTime: '2023-10-02T08:00:00Z' },
    ]);
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([expect.objectContaining({ path: 'body.0.messageInstanceId' })]);
    const largest = await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'DELIVERED', mediaType: 'email', contactId: id, messageInstanceId: 2_147_483_647, activityDateTime: '2023-10-02T08:00:00Z' },
    ]);
    expect(largest.status).toBe(200);
  });

  it('records nothing when one activity names an unknown contact, and says which', async () => {
    const id = await newContact(account, 'act-2', 'act2@example.com');
    const before = (await stack.platform.db.query('SELECT count(*)::int AS n FROM contact_activities')).rows[0].n;
    const response = await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'SENT', mediaType: 'sms', contactId: id, activityDateTime: '2023-09-14T08:30:00Z' },
      { activityStatus: 'SENT', mediaType: 'sms', externalCustomerId: 'nobody', activityDateTime: '2023-09-14T08:30:00Z' },
    ]);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('UNKNOWN_CONTACT');
    expect(response.body.error.details).toEqual([{ path: 'body.1', message: expect.any(String) }]);
    expect((await stack.platform.db.query('SELECT count(*)::int AS n FROM contact_activities')).rows[0].n).toBe(before);
    expect((await stack.platform.db.query('SELECT total_sent FROM contacts WHERE id = $1', [id])).rows[0].total_sent).toBe(0);
  });

  it('refuses an activityDateTime that is not on the calendar, and takes the leap day', async () => {
    const id = await newContact(account, 'act-4', 'act4@example.com');
    for (const impossible of ['2023-02-30T00:00:00', '2023-04-31T08:30:03Z']) {
      const response = await stack.request(account, 'POST', '/api/v1/activities', [
        { activityStatus: 'SENT', mediaType: 'email', contactId: id, activityDateTime: '2023-02-28T00:00:00' },
        { activityStatus: 'SENT', mediaType: 'email', contactId: id, activityDateTime: impossible },
      ]);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.details).toEqual([{ path: 'body.1.activityDateTime', message: expect.any(String) }]);
    }
    expect((await stack.platform.db.query('SELECT count(*)::int AS n FROM contact_activities WHERE contact_id = $1', [id])).rows[0].n).toBe(0);

    const leap = await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'SENT', mediaType: 'email', contactId: id, activityDateTime: '2024-02-29T23:59:59' },
    ]);
    expect(leap.status).toBe(200);
    const listed = await stack.request(
      account,
      'GET',
      '/api/v1/contacts/activity?dateFrom=2024-02-29T00:00:00&dateTo=2024-02-29T23:59:59&email=act4@example.com',
    );
    expect(listed.body.map((activity: { activityDateTime: string }) => activity.activityDateTime)).toEqual(['2024-02-29T23:59:59']);
  });

  it('refuses more than 1000 activities, unknown statuses and a key without the settings right', async () => {
    const one = { activityStatus: 'SENT', mediaType: 'sms', contactId: 1, activityDateTime: '2023-09-14T08:30:00Z' };
    expect(
      (
        await stack.request(
          account,
          'POST',
          '/api/v1/activities',
          Array.from({ length: 1001 }, () => one),
        )
      ).status,
    ).toBe(400);
    expect((await stack.request(account, 'POST', '/api/v1/activities', [{ ...one, activityStatus: 'EXPLODED' }])).status).toBe(400);
    const partner = await stack.createAccount({ rights: 'eventsAndContacts' });
    expect((await stack.request(partner, 'POST', '/api/v1/activities', [one])).status).toBe(403);
  });
});

describe('GET /api/v1/contacts/activity', () => {
  it('refuses an interval longer than three months', async () => {
    const response = await stack.request(account, 'GET', '/api/v1/contacts/activity?dateFrom=2023-01-01T00:00:00Z&dateTo=2023-04-01T00:00:01Z');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('INTERVAL_TOO_LONG');
    expect((await stack.request(account, 'GET', '/api/v1/contacts/activity?dateFrom=2023-01-01T00:00:00Z&dateTo=2023-04-01T00:00:00Z')).status).toBe(
      200,
    );
    expect((await stack.request(account, 'GET', '/api/v1/contacts/activity?dateFrom=2023-01-01')).status).toBe(400);
  });

  it.each([
    ['2023-08-31T10:20:30Z', '2023-11-30T10:20:30Z', '2023-11-30T10:20:31Z'],
    ['2023-11-30T00:00:00Z', '2024-02-29T00:00:00Z', '2024-02-29T00:00:01Z'],
    ['2022-11-30T00:00:00Z', '2023-02-28T00:00:00Z', '2023-02-28T00:00:01Z'],
    ['2024-05-31T23:59:59Z', '2024-08-31T23:59:59Z', '2024-09-01T00:00:00Z'],
  ])('counts three months from %s to the same time of day on the last day the target month has', async (dateFrom, limit, beyond) => {
    const interval = (dateTo: string) => stack.request(account, 'GET', `/api/v1/contacts/activity?dateFrom=${dateFrom}&dateTo=${dateTo}`);
    expect((await interval(limit)).status).toBe(200);
    const tooLong = await interval(beyond);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe('INTERVAL_TOO_LONG');
  });

  it.each([
    '2023-02-30T00:00:00',
    '2023-04-31T00:00:00Z',
    '2023-02-29T12:00:00Z',
    '2023-01-01T24:00:00Z',
    '2023-01-01T10:60:00Z',
    '0000-01-01T00:00:00Z',
    '0001-01-01',
  ])('refuses %s as dateFrom or dateTo instead of rolling it over', async (impossible) => {
    for (const [query, field] of [
      [`dateFrom=${impossible}&dateTo=2023-05-01T00:00:00Z`, 'dateFrom'],
      [`dateFrom=2023-01-01T00:00:00Z&dateTo=${impossible}`, 'dateTo'],
    ] as const) {
      const response = await stack.request(account, 'GET', `/api/v1/contacts/activity?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.details).toEqual([{ path: `query.${field}`, message: expect.any(String) }]);
    }
  });

  it('filters by status and message tag and never shows another account', async () => {
    const id = await newContact(account, 'act-3', 'act3@example.com');
    await stack.request(account, 'POST', '/api/v1/activities', [
      {
        activityStatus: 'UNDELIVERED',
        mediaType: 'viber',
        contactId: id,
        messageTag: 'tag2,tag,test',
        hardBounce: false,
        statusDescription: '401: null',
        activityDateTime: '2024-02-01T10:00:00Z',
      },
      { activityStatus: 'DELIVERED', mediaType: 'viber', contactId: id, messageTag: 'other', activityDateTime: '2024-02-01T10:00:00Z' },
    ]);
    const tagged = await stack.request(
      account,
      'GET',
      '/api/v1/contacts/activity?dateFrom=2024-01-15T00:00:00Z&dateTo=2024-02-15T00:00:00Z&messageTag=tag&activityStatus=UNDELIVERED',
    );
    expect(tagged.body).toHaveLength(1);
    expect(tagged.body[0]).toMatchObject({
      activityStatus: 'UNDELIVERED',
      hardBounce: false,
      statusDescription: '401: null',
      messageTag: 'tag2,tag,test',
    });
    const stranger = await stack.createAccount();
    expect(
      (await stack.request(stranger, 'GET', '/api/v1/contacts/activity?dateFrom=2024-01-15T00:00:00Z&dateTo=2024-02-15T00:00:00Z')).body,
    ).toEqual([]);
    expect(
      (
        await stack.request(stranger, 'POST', '/api/v1/activities', [
          { activityStatus: 'SENT', mediaType: 'sms', contactId: id, activityDateTime: '2024-02-01T10:00:00Z' },
        ])
      ).status,
    ).toBe(400);
  });
});

describe('POST /api/v1/event', () => {
  it('stores the event, links it to the contact its parameters name and lists it', async () => {
    const id = await newContact(account, 'ev-1', 'ev1@example.com');
    const response = await stack.request(account, 'POST', '/api/v1/event', {
      eventTypeKey: 'productViewed',
      keyValue: 'ev1@example.com',
      params: [
        { name: 'externalCustomerId', value: 'ev-1' },
        { name: 'productId', value: 42 },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: expect.any(Number), eventKey: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const listed = await stack.request(account, 'GET', '/api/v1/events?eventTypeKey=productViewed');
    expect(listed.body).toEqual([
      expect.objectContaining({
        eventKey: response.body.eventKey,
        eventTypeKey: 'productViewed',
        keyValue: 'ev1@example.com',
        contactId: id,
        params: [
          { name: 'externalCustomerId', value: 'ev-1' },
          { name: 'productId', value: '42' },
        ],
      }),
    ]);
  });

  it.each(['a;b', 'a/b', 'a,b', 'a>b', "a'b", 'a"b', 'a?b', 'a!b', 'a|b', 'a^b', 'a\\b', 'a‹b', 'a’b', 'x'.repeat(101), ''])(
    'refuses the event type key %j',
    async (eventTypeKey) => {
      const response = await stack.request(account, 'POST', '/api/v1/event', { eventTypeKey, keyValue: 'k' });
      expect(response.status).toBe(400);
      expect(response.body.error.details[0].path).toBe('body.eventTypeKey');
    },
  );
});

describe('GET /api/v1/events', () => {
  it('is closed to a key that may only send events, such as a site tracker’s: events hold contacts’ addresses', async () => {
    const tracker = await stack.createAccount({ rights: 'events' });
    const sent = await stack.request(tracker, 'POST', '/api/v1/event', { eventTypeKey: 'pageView', keyValue: 'visitor@example.com' });
    expect(sent.status).toBe(200);
    const listed = await stack.request(tracker, 'GET', '/api/v1/events');
    expect(listed.status).toBe(403);
    expect(listed.body.error.code).toBe('INSUFFICIENT_SCOPE');
  });
});

describe('POST /api/v1/orders', () => {
  it('upserts by externalOrderId, attributes revenue to the latest click and refreshes it when the order changes', async () => {
    const id = await newContact(account, 'ord-1', 'ord1@example.com');
    await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'RECEIVED', mediaType: 'email', contactId: id, activityDateTime: '2024-05-09T10:00:00Z' },
      { activityStatus: 'CLICKED', mediaType: 'email', contactId: id, activityDateTime: '2024-05-08T10:00:00Z' },
      { activityStatus: 'CLICKED', mediaType: 'email', contactId: id, activityDateTime: '2024-04-01T10:00:00Z' },
    ]);
    const clicked = (
      await stack.platform.db.query(`SELECT id FROM contact_activities WHERE contact_id = $1 AND occurred_at = '2024-05-08T10:00:00Z'`, [id])
    ).rows[0].id;

    const order = {
      externalOrderId: 'o-1',
      externalCustomerId: 'ord-1',
      status: 'INITIALIZED',
      totalCost: 100.5,
      currency: 'uah',
      orderDate: '2024-05-10T12:00:00Z',
      items: [
        { externalProductId: 'p-1', name: 'Cup', cost: 50.25, quantity: 2 },
        { externalProductId: 'p-2', name: 'Spoon', cost: 0 },
      ],
    };
    const first = await stack.request(account, 'POST', '/api/v1/orders', { orders: [order] });
    expect(first.status).toBe(200);
    expect(first.body.orders).toEqual([{ externalOrderId: 'o-1', id: expect.any(Number), contactId: id, activityId: clicked }]);
    const orderId = first.body.orders[0].id;
    // What an export reads: the order's updated_at, and each row's version (the transaction that last wrote it).
    const stamp = async (id = orderId) =>
      (
        await stack.platform.db.query(
          'SELECT o.updated_at AS o, o.change_xid::text AS order_version, r.change_xid::text AS revenue_version FROM orders o JOIN revenue_attributions r ON r.order_id = o.id WHERE o.id = $1',
          [id],
        )
      ).rows[0];
    const before = await stamp();

    // The same order again changes nothing.
    await stack.request(account, 'POST', '/api/v1/orders', { orders: [order] });
    expect(await stamp()).toEqual(before);

    const changed = await stack.request(account, 'POST', '/api/v1/orders', {
      orders: [{ ...order, status: 'DELIVERED', totalCost: 80, items: [{ externalProductId: 'p-1', name: 'Cup', cost: 40, quantity: 2 }] }],
    });
    expect(changed.body.orders[0]).toMatchObject({ id: orderId, activityId: clicked });
    const after = await stamp();
    expect(after.o.getTime()).toBeGreaterThan(before.o.getTime());
    expect(BigInt(after.revenue_version)).toBeGreaterThan(BigInt(before.revenue_version));

    // Seed 000: only orders placed from 2024-03-09 on update their revenue rows.
    await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'CLICKED', mediaType: 'email', contactId: id, activityDateTime: '2024-03-01T10:00:00Z' },
    ]);
    const early = { ...order, externalOrderId: 'o-early', orderDate: '2024-03-02T12:00:00Z', items: undefined };
    const earlyId = (await stack.request(account, 'POST', '/api/v1/orders', { orders: [early] })).body.orders[0].id;
    const earlyBefore = await stamp(earlyId);
    await stack.request(account, 'POST', '/api/v1/orders', { orders: [{ ...early, status: 'DELIVERED' }] });
    const earlyAfter = await stamp(earlyId);
    expect(BigInt(earlyAfter.order_version)).toBeGreaterThan(BigInt(earlyBefore.order_version));
    expect(earlyAfter.revenue_version).toBe(earlyBefore.revenue_version);
    const stored = (await stack.platform.db.query('SELECT status, total_cost, currency FROM orders WHERE id = $1', [orderId])).rows[0];
    expect(stored).toEqual({ status: 'DELIVERED', total_cost: '80.0000', currency: 'UAH' });
    const items = (
      await stack.platform.db.query('SELECT external_product_id, cost, quantity FROM order_items WHERE order_id = $1 AND deleted_at IS NULL', [
        orderId,
      ])
    ).rows;
    expect(items).toEqual([{ external_product_id: 'p-1', cost: '40.0000', quantity: 2 }]);
  });

  it('falls back to the latest open, attributes nothing outside the 7-day window, and creates an ORDER contact when none matches', async () => {
    const id = await newContact(account, 'ord-2', 'ord2@example.com');
    await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'RECEIVED', mediaType: 'email', contactId: id, activityDateTime: '2024-06-01T10:00:00Z' },
    ]);
    const opened = await stack.request(account, 'POST', '/api/v1/orders', {
      orders: [
        { externalOrderId: 'o-2', email: 'ORD2@example.com', status: 'IN PROGRESS', totalCost: 10, orderDate: '2024-06-03T10:00:00Z' },
        { externalOrderId: 'o-3', email: 'ord2@example.com', status: 'IN PROGRESS', totalCost: 10, orderDate: '2024-06-09T10:00:01Z' },
        {
          externalOrderId: 'o-4',
          externalCustomerId: 'ord-new',
          phone: '+380 50 111 2233',
          firstName: 'New',
          status: 'INITIALIZED',
          totalCost: 5,
          orderDate: '2024-06-09T10:00:00Z',
        },
      ],
    });
    expect(opened.status).toBe(200);
    expect(opened.body.orders[0]).toMatchObject({ contactId: id, activityId: expect.any(Number) });
    expect(opened.body.orders[1]).toMatchObject({ contactId: id, activityId: null });
    const created = await stack.request(account, 'GET', `/api/v1/contact/${opened.body.orders[2].contactId}`);
    expect(created.body).toMatchObject({
      externalCustomerId: 'ord-new',
      firstName: 'New',
      contactSource: 'ORDER',
      channels: [{ type: 'sms', value: '380501112233' }],
    });
  });

  it('refuses an orderDate that is not on the calendar, naming it, and takes the leap day', async () => {
    const order = { externalOrderId: 'o-cal', email: 'cal@example.com', status: 'INITIALIZED', totalCost: 1 };
    for (const impossible of ['2023-02-30T00:00:00', '2023-04-31T10:00:00Z']) {
      const response = await stack.request(account, 'POST', '/api/v1/orders', { orders: [{ ...order, orderDate: impossible }] });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.details).toEqual([{ path: 'body.orders.0.orderDate', message: expect.any(String) }]);
    }
    expect((await stack.request(account, 'POST', '/api/v1/orders', { orders: [{ ...order, orderDate: '2024-02-29T10:00:00Z' }] })).status).toBe(200);
    const stored = (
      await stack.platform.db.query(`SELECT ordered_at FROM orders WHERE account_id = $1 AND external_order_id = 'o-cal'`, [account.accountId])
    ).rows[0];
    expect(stored.ordered_at.toISOString()).toBe('2024-02-29T10:00:00.000Z');
  });

  it('refuses a bad order whole', async () => {
    const response = await stack.request(account, 'POST', '/api/v1/orders', {
      orders: [
        { externalOrderId: 'ok', status: 'INITIALIZED', totalCost: 1, orderDate: '2024-06-03T10:00:00Z' },
        { externalOrderId: 'bad', status: 'LOST', totalCost: -1, orderDate: 'yesterday' },
      ],
    });
    expect(response.status).toBe(400);
    expect((await stack.platform.db.query(`SELECT count(*)::int AS n FROM orders WHERE external_order_id = 'ok'`)).rows[0].n).toBe(0);
  });
});

describe('conditional group "External ID is not set"', () => {
  it('lists live contacts without an external ID, always current', async () => {
    const owner = await stack.createAccount();
    const group = await stack.request(owner, 'POST', '/api/v1/groups', {
      name: 'No external ID',
      conditions: [{ field: 'externalCustomerId', operator: 'notSet' }],
    });
    expect(group.status).toBe(200);
    const members = async () => {
      const response = await stack.request(owner, 'GET', `/api/v1/group/${group.body.id}/contacts`);
      expect(response.status).toBe(200);
      return { ids: response.body.map((contact: { id: number }) => contact.id), total: response.headers.get('TotalCount') };
    };
    const anonymous = (await stack.request(owner, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'anon@example.com' }] })).body.id;
    const known = await newContact(owner, 'grp-1', 'known@example.com');
    expect(await members()).toEqual({ ids: [anonymous], total: '1' });

    // A new contact without an ID joins; giving it one takes it out; deleting removes it.
    const later = (await stack.request(owner, 'POST', '/api/v1/contact', { channels: [{ type: 'sms', value: '380991112233' }] })).body.id;
    expect((await members()).ids).toEqual([anonymous, later]);
    await stack.request(owner, 'PUT', `/api/v1/contact/${anonymous}`, { externalCustomerId: 'grp-2' });
    await stack.request(owner, 'DELETE', `/api/v1/contact/${later}`);
    expect(await members()).toEqual({ ids: [], total: '0' });
    expect(known).toBeGreaterThan(0);

    const stranger = await stack.createAccount();
    expect((await stack.request(stranger, 'GET', `/api/v1/group/${group.body.id}/contacts`)).status).toBe(404);
  });
});
