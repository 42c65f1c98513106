/**
 * The hot statements are prepared once per connection (the contact save's inside its
 * database function, which always keeps the generic plan; the triggers' statements inside
 * theirs), and PostgreSQL may keep the generic plan it made on their sixth call, with
 * whatever the tables held then. Each test prepares one on a fresh database, grows the
 * account, and counts the pages the next call touches (PostgreSQL's own statistics): the
 * count must not grow with the account.
 */
import { Pool, type PoolClient } from 'pg';
import { createAccount } from '../../shared/accounts/api-keys';
import { IMPORT_CHUNK_SIZE, runContactImport } from '../../shared/contacts/bulk-import';
import { addOrUpdateContact } from '../../shared/contacts/save-contact';
import { withTransaction } from '../../shared/store/transaction';
import { publishRecordedActivities } from '../../shared/webhooks/outbox';
import { createTestDatabase } from '../support/stack';

const GROWN_TO = 20_000;
/** Past the five custom plans PostgreSQL tries before it settles on a generic one. */
const CALLS_TO_SETTLE_PLAN = 8;

let database: Awaited<ReturnType<typeof createTestDatabase>>;
// One connection: the prepared statements and their plans live in it.
let pool: Pool;
let accountId: number;

beforeAll(async () => {
  database = await createTestDatabase('plans');
  pool = new Pool({ connectionString: database.url, max: 1, options: '-c plan_cache_mode=force_generic_plan' });
  accountId = await createAccount(pool, 'Plans');
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

/** Pages of the table and its indexes touched so far, once this connection's counters are flushed. */
async function pagesTouched(table: string, on: Pool = pool): Promise<number> {
  await on.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await on.query<{ pages: string }>(
    `SELECT coalesce(heap_blks_hit + heap_blks_read, 0) + coalesce(idx_blks_hit + idx_blks_read, 0) AS pages
       FROM pg_statio_user_tables WHERE relname = $1`,
    [table],
  );
  return Number(rows[0]!.pages);
}

/**
 * A database of its own, on one connection: the plans to test are the ones that connection
 * makes while the new database's tables are near empty.
 */
async function onNewDatabase(test: (connection: Pool) => Promise<void>, options?: string): Promise<void> {
  const young = await createTestDatabase('plans');
  const connection = new Pool({ connectionString: young.url, max: 1, options });
  try {
    await test(connection);
  } finally {
    await connection.end();
    await young.drop();
  }
}

it('adding or updating a contact touches a few pages however many contacts the account has', async () => {
  const save = (index: number, firstName: string) =>
    addOrUpdateContact(pool, accountId, {
      externalCustomerId: `plan-${index}`,
      firstName,
      channels: [{ type: 'email', value: `plan${index}@example.com` }],
    });
  for (let call = 0; call < CALLS_TO_SETTLE_PLAN; call += 1) await save(call % 2, `Call ${call}`);

  await pool.query(
    `WITH grown AS (
       INSERT INTO contacts (account_id, external_customer_id, first_name)
       SELECT $1, 'grown-' || n, 'Grown' FROM generate_series(1, $2::int) AS n RETURNING id
     )
     INSERT INTO contact_channels (account_id, contact_id, type, value, normalized)
     SELECT $1, id, 'email', 'grown' || id || '@example.com', 'grown' || id || '@example.com' FROM grown`,
    [accountId, GROWN_TO],
  );
  const touchedBy = async (write: () => Promise<unknown>) => {
    const before = { contacts: await pagesTouched('contacts'), channels: await pagesTouched('contact_channels') };
    await write();
    return { contacts: (await pagesTouched('contacts')) - before.contacts, channels: (await pagesTouched('contact_channels')) - before.channels };
  };
  const updated = await touchedBy(() => save(1, 'Updated'));
  // A new external ID is looked for by ID, then by its email, before the contact is made.
  const created = await touchedBy(() => save(2, 'Created'));
  // Without an external ID the contact is found by its email.
  const foundByEmail = await touchedBy(() =>
    addOrUpdateContact(pool, accountId, { lastName: 'By email', channels: [{ type: 'email', value: 'plan1@example.com' }] }),
  );

  const names = await pool.query(
    'SELECT external_customer_id, first_name, last_name FROM contacts WHERE external_customer_id IN ($1, $2) ORDER BY 1',
    ['plan-1', 'plan-2'],
  );
  expect(names.rows).toEqual([
    { external_customer_id: 'plan-1', first_name: 'Updated', last_name: 'By email' },
    { external_customer_id: 'plan-2', first_name: 'Created', last_name: null },
  ]);
  // Each row reached by key and written into each of its indexes; a scan of the account's
  // range (or of a table) would touch hundreds of pages here.
  expect(updated.contacts).toBeLessThan(40);
  expect(updated.channels).toBeLessThan(20);
  expect(created.contacts).toBeLessThan(40);
  expect(created.channels).toBeLessThan(20);
  expect(foundByEmail.contacts).toBeLessThan(40);
  expect(foundByEmail.channels).toBeLessThan(20);
});

it('publishing activities to the webhook outbox finds each one by key however long the history', async () => {
  await pool.query(
    `INSERT INTO webhook_endpoints (account_id, url, secret, verified_at) VALUES ($1, 'https://hooks.example/in', 'whsec_test', now())`,
    [accountId],
  );
  const recorded = async (count: number): Promise<number[]> => {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO contact_activities (account_id, activity_status, media_type, occurred_at)
       SELECT $1, 'DELIVERED', 'email', now() FROM generate_series(1, $2::int) RETURNING id`,
      [accountId, count],
    );
    return rows.map((row) => Number(row.id));
  };
  const publish = (ids: readonly number[]) => withTransaction(pool, (client: PoolClient) => publishRecordedActivities(client, accountId, ids));
  for (let call = 0; call < CALLS_TO_SETTLE_PLAN; call += 1) await publish(await recorded(2));

  await recorded(GROWN_TO);
  const latest = await recorded(50);
  const before = await pagesTouched('contact_activities');
  await publish(latest);
  const touched = (await pagesTouched('contact_activities')) - before;

  const { rows } = await pool.query<{ queued: string }>('SELECT count(*) AS queued FROM webhook_outbox WHERE account_id = $1', [accountId]);
  expect(Number(rows[0]!.queued)).toBe(CALLS_TO_SETTLE_PLAN * 2 + 50);
  // A key lookup is an index's root and leaf page, then the row's own page.
  expect(touched).toBeLessThanOrEqual(50 * 3);
});

it('importing contacts reaches each one by key, though the plans were made while the account was new', async () => {
  await onNewDatabase(async (importer) => {
    const importerAccount = await createAccount(importer, 'Imports');
    const importContacts = async (prefix: string, count: number): Promise<void> => {
      const contacts = Array.from({ length: count }, (_, index) => ({
        externalCustomerId: `${prefix}-${index}`,
        channels: [{ type: 'email', value: `${prefix}${index}@example.com` }],
      }));
      const { rows } = await importer.query<{ id: string }>(
        'INSERT INTO contact_import_jobs (account_id, request, total) VALUES ($1, $2::jsonb, $3) RETURNING id',
        [importerAccount, JSON.stringify({ contacts, dedupeOn: 'externalCustomerId' }), count],
      );
      await runContactImport(importer, rows[0]!.id);
    };
    // A new install's first import (one chunk) plans each statement of this connection, the
    // channels' export trigger among them, on tables that hold a few hundred contacts.
    await importContacts('first', IMPORT_CHUNK_SIZE);

    await importer.query(
      `INSERT INTO contacts (account_id, external_customer_id, first_name)
       SELECT $1, 'grown-' || n, 'Grown' FROM generate_series(1, $2::int) AS n`,
      [importerAccount, GROWN_TO],
    );
    const before = await pagesTouched('contacts', importer);
    await importContacts('later', IMPORT_CHUNK_SIZE);
    const touched = (await pagesTouched('contacts', importer)) - before;

    const { rows } = await importer.query<{ imported: string }>(
      `SELECT count(*) AS imported FROM contacts c JOIN contact_channels ch ON ch.contact_id = c.id
        WHERE c.external_customer_id LIKE 'later-%' AND ch.normalized = replace(c.external_customer_id, '-', '') || '@example.com'`,
    );
    expect(Number(rows[0]!.imported)).toBe(IMPORT_CHUNK_SIZE);
    // Each contact written into its table and indexes, and reached again by key when its
    // channel is stored; a scan of the table per channel would touch hundreds of pages each.
    expect(touched / IMPORT_CHUNK_SIZE).toBeLessThan(40);
  }, '-c plan_cache_mode=force_generic_plan');
});

it("recording activities and events checks each one's contact by key, though the plans were made while the account was new", async () => {
  await onNewDatabase(async (writer) => {
    const writerAccount = await createAccount(writer, 'Activities');
    const { rows: typeRows } = await writer.query<{ id: string }>(`INSERT INTO event_types (account_id, key) VALUES ($1, 'purchase') RETURNING id`, [
      writerAccount,
    ]);
    const eventType = typeRows[0]!.id;
    const { rows: contactRows } = await writer.query<{ id: string }>(
      `INSERT INTO contacts (account_id, first_name) SELECT $1, 'Early' FROM generate_series(1, 300) RETURNING id`,
      [writerAccount],
    );
    const recordActivities = (contactIds: readonly string[]) =>
      writer.query(
        `INSERT INTO contact_activities (account_id, contact_id, activity_status, media_type, occurred_at)
         SELECT $1, contact_id, 'DELIVERED', 'email', now() FROM unnest($2::bigint[]) AS contact_id`,
        [writerAccount, contactIds],
      );
    const recordEvents = (contactIds: readonly string[]) =>
      writer.query(`INSERT INTO events (account_id, event_type_id, contact_id) SELECT $1, $2, contact_id FROM unnest($3::bigint[]) AS contact_id`, [
        writerAccount,
        eventType,
        contactIds,
      ]);
    // A new install's first activities and events, a few at a time.
    const page = contactRows.slice(0, 5).map((row) => row.id);
    for (let call = 0; call < CALLS_TO_SETTLE_PLAN; call += 1) {
      await recordActivities(page);
      await recordEvents(page);
    }

    await writer.query(`INSERT INTO contacts (account_id, first_name) SELECT $1, 'Grown' FROM generate_series(1, $2::int)`, [
      writerAccount,
      GROWN_TO,
    ]);
    const contactsTouchedBy = async (write: () => Promise<unknown>) => {
      const before = await pagesTouched('contacts', writer);
      await write();
      return (await pagesTouched('contacts', writer)) - before;
    };
    const one = [contactRows[0]!.id];
    const byActivity = await contactsTouchedBy(() => recordActivities(one));
    const byEvent = await contactsTouchedBy(() => recordEvents(one));

    // A contact that does not exist is still refused.
    await expect(recordActivities(['999999999'])).rejects.toMatchObject({ code: '23503', constraint: 'contact_activities_contact_id_fkey' });
    await expect(recordEvents(['999999999'])).rejects.toMatchObject({ code: '23503', constraint: 'events_contact_id_fkey' });
    // The contact's key looked up in its index; a scan of the table would touch hundreds of pages.
    expect(byActivity).toBeLessThan(10);
    expect(byEvent).toBeLessThan(10);
  });
});

it('changing a push token finds its device by key, though the plans were made while the account was new', async () => {
  await onNewDatabase(async (saver) => {
    const saverAccount = await createAccount(saver, 'Devices');
    const registerToken = (contact: number, token: string) =>
      addOrUpdateContact(saver, saverAccount, { externalCustomerId: `app-user-${contact}`, channels: [{ type: 'mobilepush', value: token }] });
    // A new install's first app users, some of whom get a new token now and then.
    for (let contact = 0; contact < 20; contact += 1) await registerToken(contact, `token-${contact}-0`);
    for (let change = 1; change <= CALLS_TO_SETTLE_PLAN; change += 1) await registerToken(change % 3, `token-${change % 3}-${change}`);

    await saver.query(
      `INSERT INTO devices (account_id, device_id, push_token) SELECT $1, 'grown-' || n, 'grown-token' FROM generate_series(1, $2::int) AS n`,
      [saverAccount, GROWN_TO],
    );
    const before = await pagesTouched('devices', saver);
    await registerToken(1, 'token-1-renewed');
    const touched = (await pagesTouched('devices', saver)) - before;

    const { rows } = await saver.query<{ device_id: string; live: boolean }>(
      `SELECT d.device_id, d.deleted_at IS NULL AS live FROM devices d JOIN contacts c ON c.id = d.contact_id
        WHERE c.external_customer_id = 'app-user-1' ORDER BY d.device_id`,
    );
    // The old token's device is retired, the new one's registered.
    expect(rows.filter((row) => row.live)).toEqual([{ device_id: 'token-1-renewed', live: true }]);
    expect(rows.find((row) => row.device_id === 'token-1-7')).toEqual({ device_id: 'token-1-7', live: false });
    // Two devices reached by key and written; a pass over the account's devices would touch hundreds of pages.
    expect(touched).toBeLessThan(100);
  });
});
