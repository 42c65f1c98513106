/**
 * On AWS every function but the migrate function logs in as the application user: DML on the
 * platform's tables, no DDL. The migrations create its role; the migrate function creates the
 * login from the application secret. Checked here on the real PostgreSQL.
 */
import { Pool } from 'pg';
import { APP_DATABASE_ROLE, ensureApplicationLogin } from '../../shared/store/database-roles';
import { createTestDatabase } from '../support/stack';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let owner: Pool;
let app: Pool;
// Roles are cluster-wide: a name of this run's own.
const username = `satellite_app_t${process.pid}`;

beforeAll(async () => {
  database = await createTestDatabase('roles');
  owner = new Pool({ connectionString: database.url, max: 2 });
  await ensureApplicationLogin(owner, username, 'first-password');
  // Run twice, as every deploy does, with the rotated password.
  await ensureApplicationLogin(owner, username, "rotated password with a ' quote");
  const url = new URL(database.url);
  url.username = username;
  url.password = "rotated password with a ' quote";
  app = new Pool({ connectionString: url.toString(), max: 1 });
});
afterAll(async () => {
  await app.end();
  await owner.query(`DROP ROLE IF EXISTS ${username}`);
  await owner.end();
  await database.drop();
});

describe('the application user', () => {
  it('is a member of the application role', async () => {
    const { rows } = await app.query<{ member: boolean }>(`SELECT pg_has_role(current_user, $1, 'MEMBER') AS member`, [APP_DATABASE_ROLE]);
    expect(rows[0]!.member).toBe(true);
  });

  it('reads and writes the platform tables, sequences and functions', async () => {
    const { rows } = await app.query<{ id: string }>(`INSERT INTO accounts (name) VALUES ('roles test') RETURNING id`);
    await app.query(`UPDATE accounts SET name = 'renamed' WHERE id = $1`, [rows[0]!.id]);
    await app.query(`INSERT INTO job_leases (job_key, holder, expires_at) VALUES ('k', gen_random_uuid(), now())`);
    await app.query(`DELETE FROM job_leases WHERE job_key = 'k'`);
    await app.query(`DELETE FROM accounts WHERE id = $1`, [rows[0]!.id]);
  });

  it("writes events and activities, whose references are checked with the writer's own rights (migrations 507, 707)", async () => {
    const { rows } = await app.query<{ id: string }>(`INSERT INTO accounts (name) VALUES ('references') RETURNING id`);
    const accountId = rows[0]!.id;
    const { rows: types } = await app.query<{ id: string }>(`INSERT INTO event_types (account_id, key) VALUES ($1, 'checked') RETURNING id`, [
      accountId,
    ]);
    const { rows: contacts } = await app.query<{ id: string }>(`INSERT INTO contacts (account_id) VALUES ($1) RETURNING id`, [accountId]);
    await app.query(`INSERT INTO events (account_id, event_type_id, contact_id) VALUES ($1, $2, $3)`, [accountId, types[0]!.id, contacts[0]!.id]);
    await app.query(
      `INSERT INTO contact_activities (account_id, contact_id, activity_status, media_type, occurred_at) VALUES ($1, $2, 'DELIVERED', 'Email', now())`,
      [accountId, contacts[0]!.id],
    );
    await app.query(`DELETE FROM accounts WHERE id = $1`, [accountId]);
    const { rows: left } = await owner.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM events WHERE account_id = $1) + (SELECT count(*) FROM contact_activities WHERE account_id = $1) AS n`,
      [accountId],
    );
    expect(Number(left[0]!.n)).toBe(0);
  });

  it('can change no schema: no table created, dropped or altered', async () => {
    await expect(app.query('CREATE TABLE intruder (id int)')).rejects.toThrow(/permission denied/);
    await expect(app.query('DROP TABLE job_leases')).rejects.toThrow(/must be owner/);
    await expect(app.query('ALTER TABLE accounts ADD COLUMN x int')).rejects.toThrow(/must be owner/);
    await expect(app.query('TRUNCATE accounts CASCADE')).rejects.toThrow(/permission denied/);
  });

  it('gets the same rights on tables a later migration creates', async () => {
    await owner.query('CREATE TABLE later_table (id int)');
    await app.query('INSERT INTO later_table VALUES (1)');
    expect((await app.query('SELECT id FROM later_table')).rows).toEqual([{ id: 1 }]);
  });
});
