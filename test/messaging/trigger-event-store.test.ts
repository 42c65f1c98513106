import { assemblePage } from '../../shared/trigger-events/assemble';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { waitUntilLockWait } from '../support/wait-until';

// Migrations 505 and 507 store a page's events without foreign-key checks per row (issue 27):
// these are the guarantees the dropped checks gave, shown to hold without them.

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ background: false, clock: { now: () => new Date('2026-03-10T09:00:00Z') } });
});
afterAll(() => stack.stop());

/** An account with a workflow (events only) over a segment of `members` new contacts. */
async function accountWithWorkflow(members: number): Promise<{ account: TestAccount; workflowId: number; contactIds: number[] }> {
  const account = await stack.createAccount();
  const { rows } = await stack.platform.db.query<{ id: number }>(
    'INSERT INTO contacts (account_id) SELECT $1 FROM generate_series(1, $2) RETURNING id',
    [account.accountId, members],
  );
  const segment = await stack.request(account, 'POST', '/api/v1/groups', {
    name: 'All',
    conditions: [{ field: 'externalCustomerId', operator: 'notSet' }],
  });
  const workflow = await stack.request(account, 'POST', '/api/v1/workflows/regular', {
    name: 'w',
    segmentId: segment.body.id,
    schedule: 'rate(1 day)',
  });
  expect(workflow.status).toBe(201);
  return { account, workflowId: workflow.body.id, contactIds: rows.map((row) => row.id) };
}

const countOf = async (sql: string, accountId: number) => (await stack.platform.db.query<{ n: number }>(sql, [accountId])).rows[0]!.n;
const eventsOf = (accountId: number) => countOf('SELECT count(*)::int AS n FROM events WHERE account_id = $1', accountId);
const emissionsOf = (accountId: number) => countOf('SELECT count(*)::int AS n FROM trigger_event_emissions WHERE account_id = $1', accountId);

describe('the trigger-event store', () => {
  it('gives every emitted event its own id, recorded in the ledger, and a page done again emits nothing twice', async () => {
    const { account, workflowId, contactIds } = await accountWithWorkflow(5);
    const page = { accountId: account.accountId, workflowId, day: '2026-03-10', contactIds };
    expect(await assemblePage(stack.platform, page)).toEqual({ emitted: 5, alreadyEmitted: 0, sent: 0 });
    expect(await assemblePage(stack.platform, page)).toEqual({ emitted: 0, alreadyEmitted: 5, sent: 0 });
    const { rows } = await stack.platform.db.query<{ event_id: number; contact_id: number; event_contact: number | null }>(
      `SELECT l.event_id, l.contact_id, e.contact_id AS event_contact FROM trigger_event_emissions l LEFT JOIN events e ON e.id = l.event_id WHERE l.account_id = $1`,
      [account.accountId],
    );
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((row) => row.event_id)).size).toBe(5);
    for (const row of rows) expect(row.event_contact).toBe(row.contact_id);
  });

  it("takes an account's events and ledger with it when the account is deleted, and leaves other accounts' alone", async () => {
    const gone = await accountWithWorkflow(3);
    const kept = await accountWithWorkflow(2);
    for (const { account, workflowId, contactIds } of [gone, kept])
      await assemblePage(stack.platform, { accountId: account.accountId, workflowId, day: '2026-03-10', contactIds });
    expect(await emissionsOf(gone.account.accountId)).toBe(3);

    await stack.platform.db.query('DELETE FROM accounts WHERE id = $1', [gone.account.accountId]);
    expect(await eventsOf(gone.account.accountId)).toBe(0);
    expect(await emissionsOf(gone.account.accountId)).toBe(0);
    expect(await eventsOf(kept.account.accountId)).toBe(2);
    expect(await emissionsOf(kept.account.accountId)).toBe(2);
  });

  it("refuses an event filed under another account's event type", async () => {
    const owner = await stack.createAccount();
    const other = await stack.createAccount();
    const { rows } = await stack.platform.db.query<{ id: number }>(`INSERT INTO event_types (account_id, key) VALUES ($1, 'theirs') RETURNING id`, [
      owner.accountId,
    ]);
    await expect(
      stack.platform.db.query('INSERT INTO events (account_id, event_type_id) VALUES ($1, $2)', [other.accountId, rows[0]!.id]),
    ).rejects.toMatchObject({ code: '23503' });
  });

  it('refuses an event whose contact does not exist, and stores one without a contact', async () => {
    const account = await stack.createAccount();
    const type = await eventTypeOf(account.accountId, 'checked');
    await expect(
      stack.platform.db.query('INSERT INTO events (account_id, event_type_id, contact_id) VALUES ($1, $2, $3)', [
        account.accountId,
        type,
        9_999_999_999,
      ]),
    ).rejects.toMatchObject({ code: '23503', constraint: 'events_contact_id_fkey' });
    await stack.platform.db.query('INSERT INTO events (account_id, event_type_id) VALUES ($1, $2)', [account.accountId, type]);
    expect(await eventsOf(account.accountId)).toBe(1);
  });

  it('refuses a whole page when one of its events refers to a missing contact', async () => {
    const account = await stack.createAccount();
    const type = await eventTypeOf(account.accountId, 'page');
    const { rows } = await stack.platform.db.query<{ id: number }>('INSERT INTO contacts (account_id) VALUES ($1) RETURNING id', [account.accountId]);
    await expect(
      stack.platform.db.query('INSERT INTO events (account_id, event_type_id, contact_id) SELECT $1, $2, unnest($3::bigint[])', [
        account.accountId,
        type,
        [rows[0]!.id, 9_999_999_998],
      ]),
    ).rejects.toMatchObject({ code: '23503' });
    expect(await eventsOf(account.accountId)).toBe(0);
  });

  it('takes the events of a deleted event type with it, leaves the events of a deleted contact without one, and moves no event to another contact', async () => {
    const { account, workflowId, contactIds } = await accountWithWorkflow(3);
    await assemblePage(stack.platform, { accountId: account.accountId, workflowId, day: '2026-03-10', contactIds });
    const other = await eventTypeOf(account.accountId, 'other');
    await stack.platform.db.query('INSERT INTO events (account_id, event_type_id, contact_id) VALUES ($1, $2, $3)', [
      account.accountId,
      other,
      contactIds[0],
    ]);

    await stack.platform.db.query('DELETE FROM contacts WHERE id = ANY($1::bigint[])', [contactIds.slice(0, 2)]);
    const { rows: contacts } = await stack.platform.db.query<{ contact_id: number | null }>(
      'SELECT contact_id FROM events WHERE account_id = $1 ORDER BY id',
      [account.accountId],
    );
    expect(contacts.map((row) => row.contact_id).sort()).toEqual([contactIds[2], null, null, null].sort());

    await expect(
      stack.platform.db.query('UPDATE events SET contact_id = $2 WHERE account_id = $1', [account.accountId, contactIds[2]]),
    ).rejects.toMatchObject({
      code: '23503',
    });
    await stack.platform.db.query('DELETE FROM event_types WHERE account_id = $1 AND id <> $2', [account.accountId, other]);
    expect(await eventsOf(account.accountId)).toBe(1);
  });

  it('makes an event type deleted while an event of it is being written wait, then take that event too', async () => {
    const account = await stack.createAccount();
    const type = await eventTypeOf(account.accountId, 'raced');
    const writer = await stack.platform.db.connect();
    const deleter = await stack.platform.db.connect();
    try {
      await writer.query('BEGIN');
      await writer.query('INSERT INTO events (account_id, event_type_id) VALUES ($1, $2)', [account.accountId, type]);
      let deleted = false;
      const deletion = deleter.query('DELETE FROM event_types WHERE id = $1', [type]).then(() => {
        deleted = true;
      });
      // The deletion waits on the type's lock, which the writer holds until it commits.
      await waitUntilLockWait(stack.platform.db, 'the deletion waiting for the type');
      expect(deleted).toBe(false);
      await writer.query('COMMIT');
      await deletion;
      expect(await eventsOf(account.accountId)).toBe(0);
    } finally {
      writer.release();
      deleter.release();
    }
  });
});

async function eventTypeOf(accountId: number, key: string): Promise<number> {
  const { rows } = await stack.platform.db.query<{ id: number }>('INSERT INTO event_types (account_id, key) VALUES ($1, $2) RETURNING id', [
    accountId,
    key,
  ]);
  return rows[0]!.id;
}
