import type { PoolClient } from 'pg';
import { withTransaction } from '../../shared/store/transaction';
import { publishRecordedActivities } from '../../shared/webhooks/outbox';
import { startTestStack, type TestStack } from '../support/stack';
import { waitUntilLockWait } from '../support/wait-until';

// Migration 707 checks activities and outbox rows against their account and contact once per
// statement instead of by foreign keys row by row (issue 27): these are the guarantees the
// keys gave, shown to hold without them.

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
});
afterAll(() => stack.stop());

const MISSING = 9_999_999_999;

/** Records `count` activities of the account (for `contactId`, when given) and their outbox rows, as the API does. */
async function record(client: PoolClient, accountId: number, count: number, contactId: number | null = null): Promise<number[]> {
  const { rows } = await client.query<{ id: number }>(
    `INSERT INTO contact_activities (account_id, contact_id, activity_status, media_type, occurred_at, email)
     SELECT $1, $2, 'DELIVERED', 'Email', now(), 'someone@example.com' FROM generate_series(1, $3) RETURNING id`,
    [accountId, contactId, count],
  );
  const ids = rows.map((row) => row.id);
  await publishRecordedActivities(client, accountId, ids);
  return ids;
}

/** An account with a webhook endpoint, so that its activities get outbox rows. */
async function accountWithEndpoint(): Promise<number> {
  const account = await stack.createAccount();
  await stack.platform.db.query(
    `INSERT INTO webhook_endpoints (account_id, url, secret, verified_at) VALUES ($1, 'https://hooks.example.com/in', 'sealed', now())`,
    [account.accountId],
  );
  return account.accountId;
}

const countOf = async (sql: string, accountId: number) => (await stack.platform.db.query<{ n: number }>(sql, [accountId])).rows[0]!.n;
const activitiesOf = (accountId: number) => countOf('SELECT count(*)::int AS n FROM contact_activities WHERE account_id = $1', accountId);
const outboxOf = (accountId: number) => countOf('SELECT count(*)::int AS n FROM webhook_outbox WHERE account_id = $1', accountId);

describe('the activity store', () => {
  it('refuses activities of a missing account or contact, and outbox rows of a missing account, writing none of the batch', async () => {
    const accountId = await accountWithEndpoint();
    await expect(withTransaction(stack.platform.db, (client) => record(client, MISSING, 3))).rejects.toMatchObject({
      code: '23503',
      constraint: 'contact_activities_account_id_fkey',
    });
    await expect(withTransaction(stack.platform.db, (client) => record(client, accountId, 3, MISSING))).rejects.toMatchObject({
      code: '23503',
      constraint: 'contact_activities_contact_id_fkey',
    });
    const [activityId] = await withTransaction(stack.platform.db, (client) => record(client, accountId, 1));
    await expect(
      stack.platform.db.query('INSERT INTO webhook_outbox (account_id, activity_id) VALUES ($1, $2)', [MISSING, activityId]),
    ).rejects.toMatchObject({ code: '23503', constraint: 'webhook_outbox_account_id_fkey' });
    expect(await activitiesOf(accountId)).toBe(1);
    expect(await outboxOf(accountId)).toBe(1);
  });

  it("takes an account's activities and outbox rows with it when the account is deleted, and leaves other accounts' alone", async () => {
    const gone = await accountWithEndpoint();
    const kept = await accountWithEndpoint();
    await withTransaction(stack.platform.db, (client) => record(client, gone, 4));
    await withTransaction(stack.platform.db, (client) => record(client, kept, 2));

    await stack.platform.db.query('DELETE FROM accounts WHERE id = $1', [gone]);
    expect(await activitiesOf(gone)).toBe(0);
    expect(await outboxOf(gone)).toBe(0);
    expect(await activitiesOf(kept)).toBe(2);
    expect(await outboxOf(kept)).toBe(2);
  });

  it('leaves the activities of a deleted contact without one, and moves no activity to another contact', async () => {
    const accountId = await accountWithEndpoint();
    const { rows } = await stack.platform.db.query<{ id: number }>(
      'INSERT INTO contacts (account_id) SELECT $1 FROM generate_series(1, 2) RETURNING id',
      [accountId],
    );
    const [removed, other] = rows.map((row) => row.id);
    await withTransaction(stack.platform.db, (client) => record(client, accountId, 2, removed));

    await stack.platform.db.query('DELETE FROM contacts WHERE id = $1', [removed]);
    const { rows: activities } = await stack.platform.db.query<{ contact_id: number | null }>(
      'SELECT contact_id FROM contact_activities WHERE account_id = $1',
      [accountId],
    );
    expect(activities).toEqual([{ contact_id: null }, { contact_id: null }]);
    await expect(
      stack.platform.db.query('UPDATE contact_activities SET contact_id = $2 WHERE account_id = $1', [accountId, other]),
    ).rejects.toMatchObject({
      code: '23503',
    });
  });

  it('makes an account deleted while its activities are being recorded wait, then take them too', async () => {
    const accountId = await accountWithEndpoint();
    const writer = await stack.platform.db.connect();
    try {
      await writer.query('BEGIN');
      await record(writer, accountId, 5);
      let deleted = false;
      const deletion = stack.platform.db.query('DELETE FROM accounts WHERE id = $1', [accountId]).then(() => {
        deleted = true;
      });
      // The deletion waits on the account's lock, which the writer holds until it commits.
      await waitUntilLockWait(stack.platform.db, 'the account deletion waiting for the recording');
      expect(deleted).toBe(false);
      await writer.query('COMMIT');
      await deletion;
      expect(await activitiesOf(accountId)).toBe(0);
      expect(await outboxOf(accountId)).toBe(0);
    } finally {
      writer.release();
    }
  });
});
