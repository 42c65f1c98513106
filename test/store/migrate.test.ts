import { Pool } from 'pg';
import { migrate, MigrationChanged } from '../../shared/store/migrate';
import { migrations } from '../../shared/store/migrations';
import { createTestDatabase } from '../support/stack';

describe('migrations', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;

  beforeAll(async () => {
    database = await createTestDatabase('m');
    pool = new Pool({ connectionString: database.url, max: 3 });
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  it('has unique, increasing versions', () => {
    const versions = migrations.map((migration) => migration.version);
    expect(new Set(versions).size).toBe(versions.length);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  });

  it('applies nothing twice', async () => {
    expect(await migrate(pool, migrations)).toEqual([]);
  });

  it('applies a new migration once, even when two starters race', async () => {
    const extra = [...migrations, { version: 99_001, name: 'probe', sql: 'CREATE TABLE probe_race (id int)' }];
    const [first, second] = await Promise.all([migrate(pool, extra), migrate(pool, extra)]);
    expect([...first, ...second]).toEqual([99_001]);
  });

  it('refuses to start when an applied migration was edited', async () => {
    const edited = [...migrations, { version: 99_001, name: 'probe', sql: 'CREATE TABLE probe_race (id bigint)' }];
    await expect(migrate(pool, edited)).rejects.toBeInstanceOf(MigrationChanged);
  });

  it('604 gives contacts deleted before exports showed deletions a new change, so the next pass marks them', async () => {
    const { rows: accounts } = await pool.query<{ id: number }>("INSERT INTO accounts (name) VALUES ('Deleted before') RETURNING id");
    const { rows: contacts } = await pool.query<{ id: number; deleted: boolean; change: string }>(
      `INSERT INTO contacts (account_id, deleted_at) VALUES ($1, now()), ($1, NULL) RETURNING id, deleted_at IS NOT NULL AS deleted, change_xid::text AS change`,
      [accounts[0]!.id],
    );
    // As a database migrated before 604 would stand.
    await pool.query('DELETE FROM schema_migrations WHERE version = 604');
    expect(await migrate(pool, migrations)).toEqual([604]);

    const { rows: after } = await pool.query<{ id: number; change: string }>(
      'SELECT id, change_xid::text AS change FROM contacts WHERE account_id = $1',
      [accounts[0]!.id],
    );
    for (const contact of contacts) {
      const now = after.find((row) => row.id === contact.id)!;
      if (contact.deleted) expect(BigInt(now.change)).toBeGreaterThan(BigInt(contact.change));
      else expect(now.change).toBe(contact.change);
    }
  });

  it('rolls back a failing migration whole', async () => {
    const broken = [...migrations, { version: 99_002, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT nope;' }];
    await expect(migrate(pool, broken)).rejects.toThrow();
    const { rows } = await pool.query(
      "SELECT to_regclass('half_done') AS t, (SELECT count(*)::int FROM schema_migrations WHERE version = 99002) AS n",
    );
    expect(rows[0]).toEqual({ t: null, n: 0 });
  });
});
