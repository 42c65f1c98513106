/**
 * On AWS the migrations run as the migrator, not as the master user: the master user makes the
 * migrator's role and login and hands it what it owns; the migrator's role then owns every
 * object, the application user gets DML on them and cannot change the schema. Checked on the
 * real PostgreSQL with a master user like RDS's: no superuser, CREATEROLE and CREATEDB, owner
 * of the database.
 */
import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { APP_DATABASE_ROLE, bootstrapMigrator, ensureApplicationLogin, MIGRATOR_DATABASE_ROLE } from '../../shared/store/database-roles';
import { migrate } from '../../shared/store/migrate';
import { migrations } from '../../shared/store/migrations';
import { tracedClient } from '../../shared/store/pool';
import { withDatabase } from '../support/stack';
import { waitUntil } from '../support/wait-until';

// Roles are cluster-wide: names of this run's own (the group roles' names are fixed).
const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
const masterUser = `rds_master_${suffix}`;
const migratorUser = `satellite_migrator_${suffix}`;
const appUser = `satellite_app_${suffix}`;
const databaseName = `migrator_${suffix}`;
const later = { version: 99_101, name: 'a later migration', sql: 'CREATE TABLE later_table (id serial PRIMARY KEY, note text)' };

let superuser: Pool;
let master: Pool;
let migrator: Pool;
let app: Pool;
let applied: number[];
/** Every statement text the master user's connections sent, as the Tracer would record it. */
const tracedStatements: string[] = [];
const appPassword = 'app password';

function loginUrl(user: string, password: string): string {
  const url = new URL(withDatabase(process.env.SATELLITE_TEST_POSTGRES_URL!, databaseName));
  url.username = user;
  url.password = password;
  return url.toString();
}

beforeAll(async () => {
  superuser = new Pool({ connectionString: process.env.SATELLITE_TEST_POSTGRES_URL, max: 1 });
  await superuser.query(`CREATE ROLE ${masterUser} LOGIN PASSWORD 'master' CREATEROLE CREATEDB`);
  await superuser.query(`CREATE DATABASE ${databaseName} OWNER ${masterUser}`);
  // The application role is cluster-wide and the template's migrations (run as the superuser)
  // made it already; on RDS the master user or the migrator made it, and administers it.
  await superuser.query(`GRANT ${APP_DATABASE_ROLE} TO ${masterUser} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
  const recording = {
    instrumentAwsClient: <C extends object>(client: C) => client,
    startDatabaseQuery: (sql: string) => {
      tracedStatements.push(sql);
      return () => undefined;
    },
  };
  master = new Pool({ connectionString: loginUrl(masterUser, 'master'), max: 2, Client: tracedClient(Client, recording) });

  // A database the master user migrated before the migrator existed: one object of its own.
  await master.query('CREATE TABLE legacy_table (id serial PRIMARY KEY)');
  await master.query('CREATE FUNCTION legacy_function() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$');

  await bootstrapMigrator(master, migratorUser, 'first');
  // Every deploy runs it again, with the secret's current (rotated) password.
  await bootstrapMigrator(master, migratorUser, "rotated ' password");
  migrator = new Pool({ connectionString: loginUrl(migratorUser, "rotated ' password"), max: 1 });
  applied = await migrate(migrator, [...migrations, later], { asRole: MIGRATOR_DATABASE_ROLE });
  await ensureApplicationLogin(master, appUser, appPassword);
  app = new Pool({ connectionString: loginUrl(appUser, appPassword), max: 1 });
});

afterAll(async () => {
  await Promise.all([app?.end(), migrator?.end(), master?.end()]);
  // pg-pool's end() resolves before the server has closed the sessions; a forced drop would
  // then kill them under their (already ended) clients, whose error nobody would handle.
  await waitUntil(
    async () =>
      (await superuser.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [databaseName])).rows[0]!.n === 0,
    'the test sessions closed',
  );
  await superuser.query(`DROP DATABASE IF EXISTS ${databaseName}`);
  for (const role of [appUser, migratorUser, MIGRATOR_DATABASE_ROLE, masterUser]) await superuser.query(`DROP ROLE IF EXISTS ${role}`);
  await superuser.end();
});

describe('the migrator', () => {
  it("sets the logins' passwords without any statement text holding them (traces record statement texts)", () => {
    expect(tracedStatements.length).toBeGreaterThan(0);
    for (const password of ['first', "rotated ' password", appPassword]) {
      expect(tracedStatements.filter((statement) => statement.includes(password))).toEqual([]);
    }
  });

  it('applies every migration', () => {
    expect(applied).toEqual([...migrations.map((migration) => migration.version), later.version]);
  });

  it("owns every table, sequence and function, the master user's earlier ones included", async () => {
    const { rows } = await master.query<{ name: string; owner: string }>(
      `SELECT relname AS name, relowner::regrole::text AS owner FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'S', 'v', 'm')
       UNION ALL
       SELECT proname, proowner::regrole::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace`,
    );
    expect(rows.length).toBeGreaterThan(50);
    expect(rows.filter((row) => row.owner !== MIGRATOR_DATABASE_ROLE)).toEqual([]);
    expect(rows.map((row) => row.name)).toEqual(expect.arrayContaining(['legacy_table', 'legacy_function', 'schema_migrations', 'later_table']));
  });

  it('changes the schema, and is no superuser', async () => {
    await migrator.query('ALTER TABLE accounts ADD COLUMN migrator_probe int');
    await migrator.query('ALTER TABLE accounts DROP COLUMN migrator_probe');
    const { rows } = await migrator.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(rows[0]!.rolsuper).toBe(false);
  });
});

describe('the application user', () => {
  it('reads and writes tables, those of a later migration included', async () => {
    const { rows } = await app.query<{ id: number }>(`INSERT INTO accounts (name) VALUES ('migrator test') RETURNING id`);
    await app.query(`DELETE FROM accounts WHERE id = $1`, [rows[0]!.id]);
    await app.query(`INSERT INTO later_table (note) VALUES ('written')`);
    expect((await app.query('SELECT note FROM later_table')).rows).toEqual([{ note: 'written' }]);
  });

  it('can change no schema', async () => {
    await expect(app.query('CREATE TABLE intruder (id int)')).rejects.toThrow(/permission denied/);
    await expect(app.query('ALTER TABLE later_table ADD COLUMN x int')).rejects.toThrow(/must be owner/);
    await expect(app.query('DROP TABLE legacy_table')).rejects.toThrow(/must be owner/);
  });
});

describe('PostgreSQL, as the design relies on it', () => {
  it('lets the master user administer a role the migrator created (the rotation clones its logins)', async () => {
    const made = `made_by_migrator_${suffix}`;
    await migrator.query(`SET ROLE ${MIGRATOR_DATABASE_ROLE}`);
    await migrator.query(`CREATE ROLE ${made} NOLOGIN`);
    await migrator.query('RESET ROLE');
    try {
      await master.query(`CREATE ROLE ${made}_login LOGIN IN ROLE ${made}`);
      await master.query(`DROP ROLE ${made}_login`);
    } finally {
      await superuser.query(`DROP ROLE IF EXISTS ${made}_login`);
      await superuser.query(`DROP ROLE IF EXISTS ${made}`);
    }
  });
});
