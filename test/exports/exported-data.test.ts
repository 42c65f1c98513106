import { Pool } from 'pg';
import type { DatasetName } from '../../shared/exports/datasets';
import { exportDatasetJob } from '../../shared/exports/run-job';
import { migrate } from '../../shared/store/migrate';
import { migrations } from '../../shared/store/migrations';
import { createCustomerDatabase, type CustomerDatabase } from '../support/customer-postgres';
import { createTestDatabase, startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { platformSettled, savePostgresConnector } from './connectors';

/**
 * What reaches the customer's tables from data written through the API: every language
 * version of a message, one spelling per media type, removals and deletions, the email
 * status from delivery outcomes. Each pass is the export worker's job on the real database.
 */
let stack: TestStack;
let account: TestAccount;
let customer: CustomerDatabase;
let exportId: number;
const schema = 'warehouse';

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
  customer = await createCustomerDatabase(stack);
  await customer.admin.query(`CREATE SCHEMA ${schema} AUTHORIZATION ${customer.user}`);
  const connectorId = await savePostgresConnector(stack.platform, account.accountId, customer);
  const datasets: DatasetName[] = ['messages', 'contactActivities', 'orderItems', 'contacts', 'revenue', 'devices'];
  const created = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, datasets, schema });
  expect(created.status).toBe(201);
  exportId = created.body.id;
});
afterAll(async () => {
  await stack.stop();
  await customer.drop();
});

/** One pass of every dataset of the export, as the worker runs it. */
async function exportPass(): Promise<void> {
  await platformSettled(stack.platform);
  const started = await stack.request(account, 'POST', `/api/v1/exports/${exportId}/run`);
  expect(started.status).toBe(202);
  const outcomes = [];
  for (const run of started.body.runs as { id: number }[])
    outcomes.push(await exportDatasetJob(stack.platform, { runId: run.id }, { remainingMs: () => 600_000 }));
  expect(outcomes.every((outcome) => outcome === 'succeeded')).toBe(true);
}

async function exported(table: string, where = 'true', params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return (await customer.admin.query(`SELECT * FROM ${schema}."${table}" WHERE ${where}`, params)).rows;
}

async function newContact(externalCustomerId: string, email: string): Promise<number> {
  const response = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId, channels: [{ type: 'email', value: email }] });
  expect(response.status).toBe(200);
  return response.body.id;
}

async function record(activities: Record<string, unknown>[]): Promise<number[]> {
  const response = await stack.request(account, 'POST', '/api/v1/activities', activities);
  expect(response.status).toBe(200);
  return response.body.ids;
}

describe('messages', () => {
  it('carry every language version, the main one first, and a deleted one is marked', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/messages/email', {
      name: 'Autumn',
      subject: 'Осінь',
      htmlText: '<p>Осінь</p>',
      languageCode: 'uk',
      translations: [
        { languageCode: 'pl', subject: 'Jesień', htmlText: '<p>Jesień</p>' },
        { languageCode: 'en', subject: 'Autumn', htmlText: '<p>Autumn</p>' },
      ],
    });
    expect(created.status).toBe(201);
    const messageId = created.body.id;
    await exportPass();
    expect(await exported('messages', '"messageId" = $1', [messageId])).toEqual([
      expect.objectContaining({ language: 'uk', translations: 'uk,en,pl', satelliteDeletedAt: null }),
    ]);

    expect((await stack.request(account, 'DELETE', `/api/v1/messages/email/${messageId}`)).status).toBe(204);
    await exportPass();
    const [deleted] = await exported('messages', '"messageId" = $1', [messageId]);
    expect(deleted).toMatchObject({ translations: 'uk,en,pl', satelliteDeletedAt: expect.any(Date) });
  });
});

describe('mediaType', () => {
  it('is stored and exported in seed 000’s spelling, whatever case the reporter sent', async () => {
    const contactId = await newContact('media-1', 'media@example.com');
    const ids = await record([
      { activityStatus: 'DELIVERED', mediaType: 'email', contactId, activityDateTime: '2024-05-01T10:00:00Z' },
      { activityStatus: 'DELIVERED', mediaType: 'EMAIL', contactId, activityDateTime: '2024-05-01T10:00:01Z' },
      { activityStatus: 'DELIVERED', mediaType: 'viber', contactId, activityDateTime: '2024-05-01T10:00:02Z' },
      { activityStatus: 'DELIVERED', mediaType: 'webpush', contactId, activityDateTime: '2024-05-01T10:00:03Z' },
      { activityStatus: 'DELIVERED', mediaType: 'mobile_push', contactId, activityDateTime: '2024-05-01T10:00:04Z' },
      { activityStatus: 'DELIVERED', mediaType: 'sms', contactId, activityDateTime: '2024-05-01T10:00:05Z' },
      { activityStatus: 'DELIVERED', mediaType: 'in-app', contactId, activityDateTime: '2024-05-01T10:00:06Z' },
    ]);
    await exportPass();
    const rows = await exported('contactActivities', '"activityId" = ANY($1::bigint[]) ORDER BY "activityId"', [ids]);
    expect(rows.map((row) => row.mediaType)).toEqual(['Email', 'Email', 'Viber', 'Web Push', 'Mobile Push', 'SMS', 'In-App']);
  });

  it('refuses one that is no channel, naming the field', async () => {
    const contactId = await newContact('media-2', 'media2@example.com');
    const response = await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'DELIVERED', mediaType: 'fax', contactId, activityDateTime: '2024-05-01T10:00:00Z' },
    ]);
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body.error)).toContain('mediaType');
  });
});

describe('order items', () => {
  it('removed from their order are marked in the destination, and live again when sent again', async () => {
    const order = { externalOrderId: 'items-1', status: 'INITIALIZED', totalCost: 30, orderDate: '2024-05-01T10:00:00Z' };
    const items = [
      { externalProductId: 'cup', name: 'Cup', cost: 10 },
      { externalProductId: 'spoon', name: 'Spoon', cost: 20 },
    ];
    const placed = await stack.request(account, 'POST', '/api/v1/orders', { orders: [{ ...order, items }] });
    expect(placed.status).toBe(200);
    const orderId = placed.body.orders[0].id;
    await exportPass();
    const byProduct = async () =>
      Object.fromEntries((await exported('orderItems', '"orderId" = $1', [orderId])).map((row) => [row.externalProductId, row.satelliteDeletedAt]));
    expect(await byProduct()).toEqual({ cup: null, spoon: null });

    await stack.request(account, 'POST', '/api/v1/orders', { orders: [{ ...order, items: [items[0]] }] });
    await exportPass();
    expect(await byProduct()).toEqual({ cup: null, spoon: expect.any(Date) });

    await stack.request(account, 'POST', '/api/v1/orders', { orders: [{ ...order, items }] });
    await exportPass();
    expect(await byProduct()).toEqual({ cup: null, spoon: null });
  });
});

describe('contacts.emailStatus', () => {
  it('follows the latest delivery outcome of the contact’s email', async () => {
    const bounced = await newContact('status-1', 'bounced@example.com');
    const complained = await newContact('status-2', 'complained@example.com');
    const softBounced = await newContact('status-3', 'soft@example.com');
    const silent = await newContact('status-4', 'silent@example.com');
    await record([
      { activityStatus: 'DELIVERED', mediaType: 'email', contactId: bounced, activityDateTime: '2024-05-01T10:00:00Z' },
      {
        activityStatus: 'UNDELIVERED',
        mediaType: 'email',
        contactId: bounced,
        hardBounce: true,
        statusDescription: '550 no such user',
        activityDateTime: '2024-05-02T10:00:00Z',
      },
      { activityStatus: 'DELIVERED', mediaType: 'email', contactId: complained, activityDateTime: '2024-05-01T10:00:00Z' },
      { activityStatus: 'DELIVERED', mediaType: 'email', contactId: softBounced, activityDateTime: '2024-05-01T10:00:00Z' },
      { activityStatus: 'UNDELIVERED', mediaType: 'email', contactId: softBounced, hardBounce: false, activityDateTime: '2024-05-02T10:00:00Z' },
    ]);
    await exportPass();
    const status = async (contactId: number) => (await exported('contacts', '"contactId" = $1', [contactId]))[0]!.emailStatus;
    expect(await status(bounced)).toBe('UNDELIVERED');
    expect(await status(complained)).toBe('DELIVERED');
    expect(await status(softBounced)).toBe('DELIVERED');
    expect(await status(silent)).toBeNull();

    // A complaint alone (no statistics move) still reaches the destination.
    await record([{ activityStatus: 'SPAM', mediaType: 'Email', contactId: complained, activityDateTime: '2024-05-03T10:00:00Z' }]);
    await exportPass();
    expect(await status(complained)).toBe('SPAM');

    // A new address has no outcome yet.
    await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'status-1',
      channels: [{ type: 'email', value: 'fresh@example.com' }],
    });
    await exportPass();
    expect(await status(bounced)).toBeNull();
  });
});

describe('devices', () => {
  it('are the mobile push registrations the API records, a removed one marked', async () => {
    const token = 'fcm:' + 'a'.repeat(150);
    const long = 'apns:' + 'b'.repeat(400);
    const saved = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'push-1',
      channels: [
        { type: 'email', value: 'push@example.com' },
        { type: 'mobilepush', value: token },
        { type: 'mobilepush', value: long },
      ],
    });
    expect(saved.status).toBe(200);
    const contactId = saved.body.id;
    await exportPass();
    const devices = async () =>
      (await exported('devices', '"contactId" = $1 ORDER BY "deviceId"', [contactId])).map((row) => [
        row.deviceId,
        row.pushToken,
        row.externalCustomerId,
        row.satelliteDeletedAt,
      ]);
    const longId = expect.stringMatching(/^sha256:[0-9a-f]{64}$/);
    expect(await devices()).toEqual([
      [token, token, 'push-1', null],
      [longId, long, 'push-1', null],
    ]);

    // The contact's push tokens become this one: the others are gone from it.
    const replaced = 'fcm:' + 'c'.repeat(150);
    await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'push-1', channels: [{ type: 'mobilepush', value: replaced }] });
    await exportPass();
    expect(await devices()).toEqual([
      [token, token, 'push-1', expect.any(Date)],
      [replaced, replaced, 'push-1', null],
      [longId, long, 'push-1', expect.any(Date)],
    ]);
  });
});

describe('migration 607', () => {
  it('rewrites the media types recorded before in one spelling, leaving unknown ones, and exports them again', async () => {
    const database = await createTestDatabase('m607');
    const pool = new Pool({ connectionString: database.url, max: 2 });
    try {
      const { rows: accounts } = await pool.query<{ id: number }>("INSERT INTO accounts (name) VALUES ('Before 607') RETURNING id");
      const spellings = ['email', 'EMAIL', 'Email', 'viber', 'web push', 'MobilePush', 'sms', 'carrier pigeon'];
      const { rows: before } = await pool.query<{ id: number; change: string }>(
        `INSERT INTO contact_activities (account_id, activity_status, media_type, occurred_at)
         SELECT $1, 'DELIVERED', spelling, now() FROM unnest($2::text[]) WITH ORDINALITY AS s(spelling, n) ORDER BY n
         RETURNING id, change_xid::text AS change`,
        [accounts[0]!.id, spellings],
      );
      // As a database migrated before 607 would stand.
      await pool.query('DELETE FROM schema_migrations WHERE version = 607');
      expect(await migrate(pool, migrations)).toEqual([607]);
      const { rows: after } = await pool.query<{ id: number; media_type: string; change: string }>(
        'SELECT id, media_type, change_xid::text AS change FROM contact_activities WHERE account_id = $1 ORDER BY id',
        [accounts[0]!.id],
      );
      expect(after.map((row) => row.media_type)).toEqual(['Email', 'Email', 'Email', 'Viber', 'Web Push', 'Mobile Push', 'SMS', 'carrier pigeon']);
      const moved = after.map((row, index) => BigInt(row.change) > BigInt(before[index]!.change));
      expect(moved).toEqual([true, true, false, true, true, true, true, false]);
    } finally {
      await pool.end();
      await database.drop();
    }
  });
});
