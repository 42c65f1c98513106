import { assemblePage } from '../../shared/trigger-events/assemble';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

// Migration 505 stores a page's events with fewer foreign-key checks per row (issue 27): these
// are the guarantees the dropped checks gave, shown to hold without them.

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
});
