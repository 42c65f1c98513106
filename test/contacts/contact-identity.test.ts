import { Pool } from 'pg';
import { addOrUpdateContact } from '../../shared/contacts/save-contact';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

let stack: TestStack;
let account: TestAccount;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
});
afterAll(() => stack.stop());

const contactsOf = async (accountId: number) =>
  (await stack.platform.db.query('SELECT id, external_customer_id, deleted_at FROM contacts WHERE account_id = $1 ORDER BY id', [accountId])).rows;

describe('POST /api/v1/contact (add/update)', () => {
  it('creates a contact and GET returns it with its externalCustomerId', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/contact', {
      firstName: 'Olena',
      lastName: 'Koval',
      externalCustomerId: 'crm-1',
      channels: [
        { type: 'email', value: 'Olena@Example.com' },
        { type: 'sms', value: '+38 (095) 649-09-55' },
      ],
      fields: [{ id: 101, value: 'gold' }],
      languageCode: 'uk',
      timeZone: 'Europe/Kyiv',
      address: { town: 'Kyiv', postcode: '01001' },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ id: expect.any(Number) });

    const read = await stack.request(account, 'GET', `/api/v1/contact/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id: created.body.id,
      externalCustomerId: 'crm-1',
      firstName: 'Olena',
      lastName: 'Koval',
      channels: [
        { type: 'email', value: 'Olena@Example.com' },
        { type: 'sms', value: '380956490955' },
      ],
      fields: [{ id: 101, value: 'gold' }],
      languageCode: 'uk',
      timeZone: 'Europe/Kyiv',
      address: { town: 'Kyiv', postcode: '01001' },
      contactSource: 'API',
      confirmed: true,
    });
  });

  it('stores the one channel of a new contact as given, with its matching form, and registers a push token as a device', async () => {
    // A create with one channel takes a statement of its own (migration 610): the channel's
    // columns come from the lists' first elements rather than from unnesting them.
    const byEmail = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'one-channel',
      channels: [{ type: 'email', value: ' Mixed.Case@Example.com ' }],
    });
    const byPhone = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'sms', value: '+38 (050) 111-22-44' }] });
    const byToken = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'mobilepush', value: 'token-one-channel' }] });
    expect([byEmail.status, byPhone.status, byToken.status]).toEqual([200, 200, 200]);

    const stored = await stack.platform.db.query(
      'SELECT contact_id, type, value, normalized, position FROM contact_channels WHERE contact_id = ANY ($1) ORDER BY contact_id',
      [[byEmail.body.id, byPhone.body.id, byToken.body.id]],
    );
    expect(stored.rows).toEqual([
      { contact_id: byEmail.body.id, type: 'email', value: 'Mixed.Case@Example.com', normalized: 'mixed.case@example.com', position: 0 },
      { contact_id: byPhone.body.id, type: 'sms', value: '380501112244', normalized: '380501112244', position: 0 },
      { contact_id: byToken.body.id, type: 'mobilepush', value: 'token-one-channel', normalized: 'token-one-channel', position: 0 },
    ]);
    const device = await stack.platform.db.query('SELECT contact_id, push_token FROM devices WHERE account_id = $1 AND device_id = $2', [
      account.accountId,
      'token-one-channel',
    ]);
    expect(device.rows).toEqual([{ contact_id: byToken.body.id, push_token: 'token-one-channel' }]);

    // Found again by the matching form of its one channel.
    const again = await stack.request(account, 'POST', '/api/v1/contact', {
      lastName: 'Again',
      channels: [{ type: 'email', value: 'MIXED.case@example.com' }],
    });
    expect(again.body).toEqual({ id: byEmail.body.id });
  });
  it('updates the contact found by externalCustomerId instead of creating another', async () => {
    const first = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'crm-2', firstName: 'Ivan' });
    const second = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'crm-2',
      lastName: 'Petrenko',
      channels: [{ type: 'email', value: 'ivan@example.com' }],
    });
    expect(second.body.id).toBe(first.body.id);
    const read = await stack.request(account, 'GET', `/api/v1/contact/${first.body.id}`);
    expect(read.body).toMatchObject({ firstName: 'Ivan', lastName: 'Petrenko', channels: [{ type: 'email', value: 'ivan@example.com' }] });
  });

  it('restores a deleted contact when it is added again by its externalCustomerId', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'crm-3', firstName: 'Before' });
    expect((await stack.request(account, 'DELETE', `/api/v1/contact/${created.body.id}`)).status).toBe(204);
    expect((await stack.request(account, 'GET', `/api/v1/contact/${created.body.id}`)).status).toBe(404);

    const again = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'crm-3', firstName: 'After' });
    expect(again.body.id).toBe(created.body.id);
    const read = await stack.request(account, 'GET', `/api/v1/contact/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.firstName).toBe('After');
  });

  it('without an externalCustomerId matches by channel (email case and phone formatting ignored)', async () => {
    const first = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'Match@Example.com' }] });
    const byEmail = await stack.request(account, 'POST', '/api/v1/contact', {
      firstName: 'M',
      channels: [{ type: 'email', value: 'match@example.COM' }],
    });
    expect(byEmail.body.id).toBe(first.body.id);

    const phone = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'sms', value: '+380 67 000 11 22' }] });
    const byPhone = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'sms', value: '380670001122' }] });
    expect(byPhone.body.id).toBe(phone.body.id);
  });

  it('does not take over a contact that already has another externalCustomerId', async () => {
    const owner = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'crm-owner',
      channels: [{ type: 'email', value: 'shared@example.com' }],
    });
    // Issue 20: this used to create a second contact with the same email; now it is a 409 the caller can act on.
    const other = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'crm-other',
      channels: [{ type: 'email', value: 'shared@example.com' }],
    });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({
      code: 'CONTACT_HAS_OTHER_EXTERNAL_ID',
      details: [
        { path: 'contactId', message: String(owner.body.id) },
        { path: 'foundBy', message: 'email' },
      ],
    });
    expect((await stack.request(account, 'GET', `/api/v1/contact/${owner.body.id}`)).body.externalCustomerId).toBe('crm-owner');
    expect((await stack.request(account, 'GET', '/api/v1/contacts?email=shared@example.com')).body).toHaveLength(1);
    expect((await stack.request(account, 'GET', '/api/v1/contacts?externalCustomerId=crm-other')).body).toEqual([]);
  });

  it.each([
    ['three emails', { channels: [1, 2, 3].map((n) => ({ type: 'email', value: `a${n}@example.com` })) }],
    ['a bad email', { channels: [{ type: 'email', value: 'not-an-email' }] }],
    ['a bad phone', { channels: [{ type: 'sms', value: 'call me' }] }],
    ['an unknown channel type', { channels: [{ type: 'fax', value: '123' }] }],
    ['an empty externalCustomerId', { externalCustomerId: '  ' }],
    ['a too long externalCustomerId', { externalCustomerId: 'x'.repeat(101) }],
    ['an unknown field', { nickname: 'x' }],
  ])('refuses %s with 400 and writes nothing', async (_, body) => {
    const other = await stack.createAccount();
    const response = await stack.request(other, 'POST', '/api/v1/contact', body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(await contactsOf(other.accountId)).toEqual([]);
  });

  it('leaves a contact sent again as it is alone, and moves it for a changed name or channel', async () => {
    const body = {
      externalCustomerId: 'same-1',
      firstName: 'Same',
      channels: [{ type: 'email', value: 'same@example.com' }],
      fields: [{ id: 7, value: 'gold' }],
    };
    const id = (await stack.request(account, 'POST', '/api/v1/contact', body)).body.id as number;
    // What a reader and an export see change: the row version, its export version, updated_at.
    const version = async () =>
      (await stack.platform.db.query('SELECT xmin::text AS row, change_xid::text AS export, updated_at FROM contacts WHERE id = $1', [id])).rows[0];
    const first = await version();
    const again = await stack.request(account, 'POST', '/api/v1/contact', body);
    expect(again.body.id).toBe(id);
    expect(await version()).toEqual(first);

    await stack.request(account, 'POST', '/api/v1/contact', { ...body, channels: [{ type: 'email', value: 'same.new@example.com' }] });
    const afterChannel = await version();
    expect(afterChannel.export).not.toBe(first.export);
    expect(afterChannel.updated_at.getTime()).toBeGreaterThan(first.updated_at.getTime());
    expect((await stack.request(account, 'GET', `/api/v1/contact/${id}`)).body.channels).toEqual([{ type: 'email', value: 'same.new@example.com' }]);

    await stack.request(account, 'POST', '/api/v1/contact', {
      ...body,
      channels: [{ type: 'email', value: 'same.new@example.com' }],
      firstName: 'Renamed',
    });
    expect((await version()).export).not.toBe(afterChannel.export);
    expect((await stack.request(account, 'GET', `/api/v1/contact/${id}`)).body.firstName).toBe('Renamed');
  });

  it('rewrites channels that differ from the stored ones only in order or count, and moves a contact for a changed field alone', async () => {
    const body = {
      externalCustomerId: 'order-1',
      channels: [
        { type: 'email', value: 'first@example.com' },
        { type: 'email', value: 'second@example.com' },
      ],
      fields: [{ id: 3, value: 'silver' }],
    };
    const id = (await stack.request(account, 'POST', '/api/v1/contact', body)).body.id as number;
    const read = async () => (await stack.request(account, 'GET', `/api/v1/contact/${id}`)).body;
    const exportVersion = async () => (await stack.platform.db.query('SELECT change_xid::text AS v FROM contacts WHERE id = $1', [id])).rows[0].v;

    // The same two values in the other order: a different set of (position, value) rows.
    await stack.request(account, 'POST', '/api/v1/contact', { ...body, channels: [...body.channels].reverse() });
    expect((await read()).channels).toEqual([...body.channels].reverse());
    // One of them: the other goes.
    await stack.request(account, 'POST', '/api/v1/contact', { ...body, channels: [{ type: 'email', value: 'second@example.com' }] });
    expect((await read()).channels).toEqual([{ type: 'email', value: 'second@example.com' }]);

    // Only a field changes: the update still happens, and exports see it.
    const before = await exportVersion();
    await stack.request(account, 'POST', '/api/v1/contact', {
      ...body,
      channels: [{ type: 'email', value: 'second@example.com' }],
      fields: [{ id: 3, value: 'gold' }],
    });
    expect((await read()).fields).toEqual([{ id: 3, value: 'gold' }]);
    expect(await exportVersion()).not.toBe(before);
  });

  it('moves a contact for exports when a writer that does not mark it (PUT, delete) changes it', async () => {
    // save_contact marks the rows it updates itself; the row trigger still marks every other writer's.
    const id = (await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'other-writer', firstName: 'A' })).body.id as number;
    const exportVersion = async () => (await stack.platform.db.query('SELECT change_xid::text AS v FROM contacts WHERE id = $1', [id])).rows[0].v;
    const created = await exportVersion();
    expect((await stack.request(account, 'PUT', `/api/v1/contact/${id}`, { firstName: 'B' })).status).toBe(200);
    const renamed = await exportVersion();
    expect(renamed).not.toBe(created);
    await stack.platform.db.query('UPDATE contacts SET last_name = $2 WHERE id = $1', [id, 'C']);
    expect(await exportVersion()).not.toBe(renamed);
  });

  it('moves a contact for exports when a later transaction on the connection that created it changes its channels', async () => {
    // One connection: the mark that spares a new contact's own channels the export touch
    // must end with the transaction that created it, not live on in the pooled session.
    const connection = new Pool({ connectionString: stack.databaseUrl, max: 1 });
    try {
      const { id } = await addOrUpdateContact(connection, account.accountId, {
        externalCustomerId: 'one-connection',
        channels: [{ type: 'email', value: 'first@example.com' }],
      });
      const exportVersion = async () =>
        (await connection.query('SELECT change_xid::text AS version FROM contacts WHERE id = $1', [id])).rows[0].version as string;
      const created = await exportVersion();
      await addOrUpdateContact(connection, account.accountId, {
        externalCustomerId: 'one-connection',
        channels: [{ type: 'sms', value: '+380501112233' }],
      });
      expect(await exportVersion()).not.toBe(created);
    } finally {
      await connection.end();
    }
  });

  it('removes an additional field given as null and keeps the others', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'crm-fields',
      fields: [
        { id: 1, value: 'a' },
        { id: 2, value: 42 },
      ],
    });
    await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'crm-fields', fields: [{ id: 1, value: null }] });
    expect((await stack.request(account, 'GET', `/api/v1/contact/${created.body.id}`)).body.fields).toEqual([{ id: 2, value: 42 }]);
  });
});

describe('seed 002 example 1: a contact from a mobile app', () => {
  it('finds the contact created with the push token and gives it the external ID and the new identifiers', async () => {
    const installed = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'mobilepush', value: 'fcm-token-1' }] });
    expect(installed.status).toBe(200);

    const registered = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'app-user-1',
      firstName: 'Taras',
      channels: [
        { type: 'mobilepush', value: 'fcm-token-1' },
        { type: 'email', value: 'taras@example.com' },
        { type: 'sms', value: '380501234567' },
      ],
    });
    expect(registered.body.id).toBe(installed.body.id);
    const read = await stack.request(account, 'GET', `/api/v1/contact/${installed.body.id}`);
    expect(read.body).toMatchObject({ externalCustomerId: 'app-user-1', firstName: 'Taras' });
    expect(read.body.channels).toEqual(
      expect.arrayContaining([
        { type: 'mobilepush', value: 'fcm-token-1' },
        { type: 'email', value: 'taras@example.com' },
        { type: 'sms', value: '380501234567' },
      ]),
    );

    // Later logins update by the external ID, even when the email changed.
    const login = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'app-user-1',
      channels: [{ type: 'email', value: 'taras.new@example.com' }],
    });
    expect(login.body.id).toBe(installed.body.id);
    const after = await stack.request(account, 'GET', `/api/v1/contact/${installed.body.id}`);
    expect(after.body.channels).toEqual(
      expect.arrayContaining([
        { type: 'email', value: 'taras.new@example.com' },
        { type: 'mobilepush', value: 'fcm-token-1' },
      ]),
    );
    expect(after.body.channels).not.toContainEqual({ type: 'email', value: 'taras@example.com' });
  });

  it('keeps each channel once when it is given again, in the order given', async () => {
    const emails = (...names: string[]) => names.map((name) => ({ type: 'email', value: `resent-${name}@example.com` }));
    const save = (channels: { type: string; value: string }[]) =>
      stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'resent-1', channels });
    const { id } = (await save([...emails('first', 'second'), { type: 'sms', value: '380501110000' }])).body;
    const channelsNow = async () => (await stack.request(account, 'GET', `/api/v1/contact/${id}`)).body.channels;

    await save(emails('first', 'second'));
    expect(await channelsNow()).toEqual([...emails('first', 'second'), { type: 'sms', value: '380501110000' }]);
    await save(emails('second', 'first'));
    expect(await channelsNow()).toEqual([...emails('second', 'first'), { type: 'sms', value: '380501110000' }]);
    await save(emails('second'));
    expect(await channelsNow()).toEqual([...emails('second'), { type: 'sms', value: '380501110000' }]);
  });
});

describe('seed 002 example 2: a contact from a web site', () => {
  it('creates the contact on subscription with every identifier, unconfirmed, and later calls update it by external ID', async () => {
    const subscribed = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: {
        externalCustomerId: 'web-user-1',
        firstName: 'Iryna',
        channels: [{ type: 'email', value: 'iryna@example.com' }],
      },
      groups: ['Newsletter'],
      formType: 'popup',
    });
    expect(subscribed.status).toBe(200);
    const read = await stack.request(account, 'GET', `/api/v1/contact/${subscribed.body.id}`);
    expect(read.body).toMatchObject({
      externalCustomerId: 'web-user-1',
      confirmed: false,
      contactSource: 'SUBSCRIPTION',
      groups: ['Newsletter'],
    });

    const login = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'web-user-1', lastName: 'Bondar' });
    expect(login.body.id).toBe(subscribed.body.id);
  });
});

describe('POST /api/v1/contact/subscribe lookup priority', () => {
  it('uses externalCustomerId first, then email, then phone', async () => {
    const byExt = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'sub-ext',
      channels: [{ type: 'email', value: 'sub-ext@example.com' }],
    });
    const byEmail = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'sub-email@example.com' }] });
    const byPhone = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'sms', value: '380660000001' }] });
    const decoy = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'sub-decoy@example.com' }] });

    // The external ID wins over an email that belongs to another contact.
    const one = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: { externalCustomerId: 'sub-ext', channels: [{ type: 'email', value: 'sub-decoy@example.com' }] },
    });
    expect(one.body.id).toBe(byExt.body.id);
    expect(one.body.id).not.toBe(decoy.body.id);

    // Found by phone when nothing else is given.
    const three = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: { channels: [{ type: 'sms', value: '+380 66 000 0001' }] },
    });
    expect(three.body.id).toBe(byPhone.body.id);

    // The email wins over a phone that belongs to another contact.
    const two = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: {
        channels: [
          { type: 'email', value: 'SUB-EMAIL@example.com' },
          { type: 'sms', value: '380660000001' },
        ],
      },
    });
    expect(two.body.id).toBe(byEmail.body.id);
  });

  it('answers 409 for a new external ID whose email (or, without one, phone) belongs to a contact with another external ID', async () => {
    const owner = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'sub-owner',
      channels: [
        { type: 'email', value: 'sub-owner@example.com' },
        { type: 'sms', value: '380660000077' },
      ],
    });
    const byEmail = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: { externalCustomerId: 'sub-newcomer', firstName: 'Newcomer', channels: [{ type: 'email', value: 'Sub-Owner@example.com' }] },
    });
    expect(byEmail.status).toBe(409);
    expect(byEmail.body.error).toMatchObject({
      code: 'CONTACT_HAS_OTHER_EXTERNAL_ID',
      details: [
        { path: 'contactId', message: String(owner.body.id) },
        { path: 'foundBy', message: 'email' },
      ],
    });
    const byPhone = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: { externalCustomerId: 'sub-newcomer', channels: [{ type: 'sms', value: '+380 66 000 00 77' }] },
    });
    expect(byPhone.status).toBe(409);
    expect(byPhone.body.error.details).toEqual([
      { path: 'contactId', message: String(owner.body.id) },
      { path: 'foundBy', message: 'sms' },
    ]);
    // Nothing written: no second contact with that email, and the owner keeps its ID and name.
    expect((await stack.request(account, 'GET', '/api/v1/contacts?email=sub-owner@example.com')).body).toHaveLength(1);
    expect((await stack.request(account, 'GET', '/api/v1/contacts?externalCustomerId=sub-newcomer')).body).toEqual([]);
    expect((await stack.request(account, 'GET', `/api/v1/contact/${owner.body.id}`)).body).toMatchObject({
      externalCustomerId: 'sub-owner',
      firstName: null,
    });
    // The email found first decides: a phone-only match without an external ID does not route around it.
    await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'sms', value: '380660000078' }] });
    const mixed = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: {
        externalCustomerId: 'sub-newcomer',
        channels: [
          { type: 'email', value: 'sub-owner@example.com' },
          { type: 'sms', value: '380660000078' },
        ],
      },
    });
    expect(mixed.status).toBe(409);
    // The same external ID as the owner's is simply the owner.
    const same = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: { externalCustomerId: 'sub-owner', channels: [{ type: 'email', value: 'sub-owner@example.com' }] },
    });
    expect(same.body.id).toBe(owner.body.id);
    // A contact found by email without an external ID is given the new one.
    const free = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'sub-free@example.com' }] });
    const claimed = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: { externalCustomerId: 'sub-free', channels: [{ type: 'email', value: 'sub-free@example.com' }] },
    });
    expect(claimed.body.id).toBe(free.body.id);
  });

  it('creates a contact from a channel it does not look up by, and still looks up by email after', async () => {
    const viberOnly = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: { channels: [{ type: 'viber', value: '380670000009' }] },
    });
    expect(viberOnly.status).toBe(200);
    const existing = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'sub-after-viber@example.com' }] });
    const byEmail = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: { channels: [{ type: 'email', value: 'sub-after-viber@example.com' }] },
    });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.id).toBe(existing.body.id);
    expect(viberOnly.body.id).not.toBe(existing.body.id);
  });
});

describe('PUT /api/v1/contact/{id}', () => {
  it('updates and assigns a free external ID', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'put-1@example.com' }] });
    const updated = await stack.request(account, 'PUT', `/api/v1/contact/${created.body.id}`, { externalCustomerId: 'put-ext-1', firstName: 'P' });
    expect(updated.status).toBe(200);
    expect((await stack.request(account, 'GET', `/api/v1/contact/${created.body.id}`)).body).toMatchObject({
      externalCustomerId: 'put-ext-1',
      firstName: 'P',
    });
  });

  it('refuses an external ID that belongs to another contact with 409, changing nothing', async () => {
    await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'put-taken' });
    const target = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'put-mine', firstName: 'Unchanged' });
    const response = await stack.request(account, 'PUT', `/api/v1/contact/${target.body.id}`, {
      externalCustomerId: 'put-taken',
      firstName: 'Changed',
      channels: [{ type: 'email', value: 'changed@example.com' }],
    });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('EXTERNAL_ID_TAKEN');
    const read = await stack.request(account, 'GET', `/api/v1/contact/${target.body.id}`);
    expect(read.body).toMatchObject({ externalCustomerId: 'put-mine', firstName: 'Unchanged', channels: [] });
  });

  it('answers 404 for a missing or deleted contact and never creates one', async () => {
    const missing = await stack.request(account, 'PUT', '/api/v1/contact/999999999', { firstName: 'X' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('CONTACT_NOT_FOUND');
    const created = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'put-deleted' });
    await stack.request(account, 'DELETE', `/api/v1/contact/${created.body.id}`);
    expect((await stack.request(account, 'PUT', `/api/v1/contact/${created.body.id}`, { firstName: 'X' })).status).toBe(404);
  });
});

describe('concurrency', () => {
  it('two simultaneous add/update calls with the same new external ID create one contact', async () => {
    const racer = await stack.createAccount();
    for (let round = 0; round < 5; round += 1) {
      const body = (name: string) => ({
        externalCustomerId: `race-${round}`,
        firstName: name,
        channels: [{ type: 'email', value: `race-${round}-${name}@example.com` }],
      });
      const [a, b] = await Promise.all([
        stack.request(racer, 'POST', '/api/v1/contact', body('a')),
        stack.request(racer, 'POST', '/api/v1/contact', body('b')),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.body.id).toBe(b.body.id);
    }
    const rows = await contactsOf(racer.accountId);
    expect(rows).toHaveLength(5);
  });
});

describe('account isolation', () => {
  it('no method of account B reads or changes account A contacts', async () => {
    const a = await stack.createAccount();
    const b = await stack.createAccount();
    const created = await stack.request(a, 'POST', '/api/v1/contact', {
      externalCustomerId: 'iso-1',
      firstName: 'A',
      channels: [{ type: 'email', value: 'iso@example.com' }],
    });
    const id = created.body.id as number;

    expect((await stack.request(b, 'GET', `/api/v1/contact/${id}`)).status).toBe(404);
    expect((await stack.request(b, 'PUT', `/api/v1/contact/${id}`, { firstName: 'B' })).status).toBe(404);
    expect((await stack.request(b, 'DELETE', `/api/v1/contact/${id}`)).status).toBe(404);
    const search = await stack.request(b, 'GET', '/api/v1/contacts?externalCustomerId=iso-1');
    expect(search.body).toEqual([]);
    // The same external ID and email in B make B's own contact.
    const own = await stack.request(b, 'POST', '/api/v1/contact', {
      externalCustomerId: 'iso-1',
      channels: [{ type: 'email', value: 'iso@example.com' }],
    });
    expect(own.body.id).not.toBe(id);
    const subscribed = await stack.request(b, 'POST', '/api/v1/contact/subscribe', {
      contact: { channels: [{ type: 'email', value: 'iso@example.com' }] },
    });
    expect(subscribed.body.id).toBe(own.body.id);

    const read = await stack.request(a, 'GET', `/api/v1/contact/${id}`);
    expect(read.body).toMatchObject({ firstName: 'A', externalCustomerId: 'iso-1' });
  });
});

describe('GET /api/v1/contacts', () => {
  let searcher: TestAccount;
  beforeAll(async () => {
    searcher = await stack.createAccount();
    for (let index = 1; index <= 5; index += 1) {
      await stack.request(searcher, 'POST', '/api/v1/contact', {
        externalCustomerId: `s-${index}`,
        firstName: index <= 3 ? 'Anna' : 'Boris',
        channels: [{ type: 'email', value: `s${index}@example.com` }],
      });
    }
  });

  it('finds by externalCustomerId alone', async () => {
    const response = await stack.request(searcher, 'GET', '/api/v1/contacts?externalCustomerId=s-2');
    expect(response.status).toBe(200);
    expect(response.body).toHaveLength(1);
    expect(response.body[0]).toMatchObject({ externalCustomerId: 's-2' });
    expect(response.headers.get('TotalCount')).toBe('1');
  });

  it('trims an external ID when looking it up, as it was trimmed when stored', async () => {
    const saved = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: ' crm-padded ', firstName: 'Padded' });
    expect((await stack.request(account, 'GET', `/api/v1/contact/${saved.body.id}`)).body.externalCustomerId).toBe('crm-padded');
    const found = await stack.request(account, 'GET', `/api/v1/contacts?externalCustomerId=${encodeURIComponent('crm-padded ')}`);
    expect(found.body.map((contact: { id: number }) => contact.id)).toEqual([saved.body.id]);
    const activity = await stack.request(account, 'POST', '/api/v1/activities', [
      { activityStatus: 'RECEIVED', mediaType: 'email', externalCustomerId: ' crm-padded', activityDateTime: '2023-10-02T09:00:00Z' },
    ]);
    expect(activity.status).toBe(200);
  });

  it('takes empty parameters as not given, as a form-built URL sends them', async () => {
    const response = await stack.request(
      searcher,
      'GET',
      '/api/v1/contacts?email=&sms=&firstname=&lastname=&externalCustomerId=s-2&startindex=1&maxrows=500',
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual([expect.objectContaining({ externalCustomerId: 's-2' })]);
  });

  it('refuses externalCustomerId combined with another parameter', async () => {
    const response = await stack.request(searcher, 'GET', '/api/v1/contacts?externalCustomerId=s-2&email=s2@example.com');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('EXTERNAL_ID_EXCLUSIVE');
  });

  it('pages with startindex and maxrows and reports the total', async () => {
    const page = await stack.request(searcher, 'GET', '/api/v1/contacts?firstname=anna&startindex=2&maxrows=1');
    expect(page.headers.get('TotalCount')).toBe('3');
    expect(page.body.map((contact: { externalCustomerId: string }) => contact.externalCustomerId)).toEqual(['s-2']);
    const byEmail = await stack.request(searcher, 'GET', '/api/v1/contacts?email=S5@EXAMPLE.com');
    expect(byEmail.body.map((contact: { externalCustomerId: string }) => contact.externalCustomerId)).toEqual(['s-5']);
  });

  it('refuses maxrows over 500', async () => {
    expect((await stack.request(searcher, 'GET', '/api/v1/contacts?maxrows=501')).status).toBe(400);
  });
});

describe('rights', () => {
  it('a write-only key cannot read contacts', async () => {
    const writer = await stack.createAccount({ rights: 'eventsAndContactsWrite' });
    const created = await stack.request(writer, 'POST', '/api/v1/contact', { externalCustomerId: 'w-1' });
    expect(created.status).toBe(200);
    const read = await stack.request(writer, 'GET', `/api/v1/contact/${created.body.id}`);
    expect(read.status).toBe(403);
    expect(read.body.error.code).toBe('INSUFFICIENT_SCOPE');
  });
});
