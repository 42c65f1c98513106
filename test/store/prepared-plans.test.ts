/**
 * The hot statements are prepared once per connection, and PostgreSQL may keep the generic
 * plan it made on their sixth call, with whatever the tables held then. Each test prepares
 * one on a fresh database, grows the account, and counts the index pages the next call
 * touches (PostgreSQL's own statistics): the count must not grow with the account. The
 * connection always takes the generic plan, as PostgreSQL does whenever it estimates it no
 * dearer than the custom ones; the last test shows that it does so for the contact save.
 */
import { Pool, type PoolClient } from 'pg';
import { createAccount } from '../../shared/accounts/api-keys';
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

/** Index pages of the table touched so far, once this connection's counters are flushed. */
async function indexPagesTouched(table: string): Promise<number> {
  await pool.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await pool.query<{ pages: string }>(
    'SELECT coalesce(sum(idx_blks_hit + idx_blks_read), 0) AS pages FROM pg_statio_user_indexes WHERE relname = $1',
    [table],
  );
  return Number(rows[0]!.pages);
}

it('updating a contact touches a few index pages however many contacts the account has', async () => {
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
  const before = { contacts: await indexPagesTouched('contacts'), channels: await indexPagesTouched('contact_channels') };
  await save(1, 'Updated');
  const touched = (await indexPagesTouched('contacts')) - before.contacts;
  const channelsTouched = (await indexPagesTouched('contact_channels')) - before.channels;

  expect((await pool.query('SELECT first_name FROM contacts WHERE external_customer_id = $1', ['plan-1'])).rows[0].first_name).toBe('Updated');
  // Finding it by external ID, then writing the new row version into each of its indexes;
  // its channels are read by contact, never by the account's range.
  expect(touched).toBeLessThan(40);
  expect(channelsTouched).toBeLessThan(20);
});

it('publishing activities to the webhook outbox finds each one by key however long the history', async () => {
  await pool.query(`INSERT INTO webhook_endpoints (account_id, url, secret, verified_at) VALUES ($1, 'https://hooks.example/in', 'whsec_test', now())`, [
    accountId,
  ]);
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
  const before = await indexPagesTouched('contact_activities');
  await publish(latest);
  const touched = (await indexPagesTouched('contact_activities')) - before;

  const { rows } = await pool.query<{ queued: string }>('SELECT count(*) AS queued FROM webhook_outbox WHERE account_id = $1', [accountId]);
  expect(Number(rows[0]!.queued)).toBe(CALLS_TO_SETTLE_PLAN * 2 + 50);
  // A key lookup is a root and a leaf page.
  expect(touched).toBeLessThanOrEqual(50 * 3);
});

it('a contact save settles on the generic plan on analyzed tables, instead of being planned on every call', async () => {
  // PostgreSQL's own choice this time: it keeps the generic plan only when it prices it no
  // dearer than a custom plan plus the planning. Planning the save cost three times its run.
  const chosen = new Pool({ connectionString: database.url, max: 1 });
  try {
    await chosen.query('ANALYZE contacts, contact_channels');
    for (let call = 0; call < 4 * CALLS_TO_SETTLE_PLAN; call += 1) {
      await addOrUpdateContact(chosen, accountId, {
        externalCustomerId: `settled-${call % 3}`,
        firstName: `Call ${call}`,
        channels: [{ type: 'email', value: `settled${call}@example.com` }],
      });
    }
    const { rows } = await chosen.query<{ generic_plans: string; custom_plans: string }>(
      "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'save-contact-%'",
    );
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.custom_plans)).toBeLessThanOrEqual(5);
    expect(Number(rows[0]!.generic_plans)).toBeGreaterThanOrEqual(4 * CALLS_TO_SETTLE_PLAN - 5);
  } finally {
    await chosen.end();
  }
});
