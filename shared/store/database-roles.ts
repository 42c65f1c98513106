import type { Pool, PoolClient } from 'pg';
import { withTransaction } from './transaction';

/**
 * Least-privilege database access on AWS, three users with a secret each:
 *
 * - the master user (RDS's) manages roles only: at every deploy it makes the migrator's role
 *   and login (`bootstrapMigrator`) and the application login (`ensureApplicationLogin`);
 * - the migrator, `MIGRATOR_DATABASE_USER`, a login of `MIGRATOR_DATABASE_ROLE`, runs the
 *   migrations as that role, which therefore owns every table, sequence and function;
 * - every other function logs in as `APP_DATABASE_USER`, a login of `APP_DATABASE_ROLE` (made
 *   by migration 900): DML on the platform's tables, no DDL.
 *
 * The objects belong to the group role, not to a login, because the migrator's secret rotates
 * between two logins (`satellite_migrator` and its `_clone`): both must be able to alter them.
 *
 * Locally every part connects as the `DATABASE_URL` user: one embedded cluster, no secrets to
 * rotate, and the tests' per-run databases need no role set-up (docs/deploy.md says so).
 * Needs PostgreSQL 16 or later (role grants `WITH SET`).
 */
export const APP_DATABASE_ROLE = 'satellite_app_role';
export const APP_DATABASE_USER = 'satellite_app';
export const MIGRATOR_DATABASE_ROLE = 'satellite_migrator_role';
export const MIGRATOR_DATABASE_USER = 'satellite_migrator';

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

type Queryable = Pick<PoolClient, 'query'>;

/** Runs a statement that format() builds: role statements take no bind parameters, so format() quotes names and passwords. */
async function runFormatted(db: Queryable, format: string, values: readonly string[]): Promise<void> {
  const { rows } = await db.query<{ statement: string }>(`SELECT format(${format}) AS statement`, [...values]);
  await db.query(rows[0]!.statement);
}

/**
 * Makes `username` a login of `group` with this password, creating it if needed; inside a
 * transaction. The password reaches the server as a bind parameter and the role statement is
 * built there (EXECUTE): no statement text the client sends (and traces, with the Tracer)
 * ever holds it.
 */
async function ensureLogin(client: Queryable, username: string, password: string, group: string): Promise<void> {
  if (!ROLE_NAME.test(username)) throw new Error('a database secret names an invalid database user');
  await client.query(
    `SELECT set_config('satellite.login_user', $1, true), set_config('satellite.login_password', $2, true), set_config('satellite.login_group', $3, true)`,
    [username, password, group],
  );
  await client.query(`
    DO $$
    DECLARE
      login text := current_setting('satellite.login_user');
      secret text := current_setting('satellite.login_password');
      grp text := current_setting('satellite.login_group');
    BEGIN
      IF EXISTS (SELECT FROM pg_roles WHERE rolname = login) THEN
        EXECUTE format('ALTER ROLE %I WITH LOGIN PASSWORD %L', login, secret);
      ELSE
        EXECUTE format('CREATE ROLE %I WITH LOGIN PASSWORD %L IN ROLE %I', login, secret, grp);
      END IF;
      -- An existing login (say, the rotation's clone) may lack the membership.
      EXECUTE format('GRANT %I TO %I', grp, login);
    EXCEPTION WHEN OTHERS THEN
      -- Raised again from here: a failing EXECUTE's error context quotes its statement.
      RAISE EXCEPTION 'could not make login %: %', login, SQLERRM USING ERRCODE = SQLSTATE;
    END $$`);
  await client.query(`SELECT set_config('satellite.login_password', '', true)`);
}

/**
 * Makes `username` a login of the application role with this password, creating it if needed.
 * The migrate function runs it (as the master user) at every deploy with the application
 * secret's current value, so the secret and the role never disagree (multi-user rotation adds
 * `<user>_clone` the same way).
 */
export async function ensureApplicationLogin(db: Pool, username: string, password: string): Promise<void> {
  await withTransaction(db, (client) => ensureLogin(client, username, password, APP_DATABASE_ROLE));
}

/**
 * Run by the master user at every deploy, before the migrations; idempotent. Makes the
 * migrator's group role (it may create roles: migration 900 makes the application role) and
 * its login from the migrator secret, lets it create in the database and its `public` schema,
 * and hands it every object in `public` the master user still owns (a database migrated
 * before the migrator existed), so that from then on only the migrator runs DDL.
 */
export async function bootstrapMigrator(master: Pool, username: string, password: string): Promise<void> {
  const client = await master.connect();
  try {
    await client.query('BEGIN');
    await client.query(`
      DO $$
      BEGIN
        CREATE ROLE ${MIGRATOR_DATABASE_ROLE} NOLOGIN CREATEROLE;
      EXCEPTION WHEN duplicate_object THEN NULL;
      END $$`);
    // The master user may become the role (ALTER ... OWNER TO needs that) and holds its rights:
    // among them the admin option on the roles it creates (900's application role), which the
    // master user needs to make the application login and the rotation needs to clone it.
    // The master user could do all of that anyway; the migrator gains nothing from it.
    await client.query(`GRANT ${MIGRATOR_DATABASE_ROLE} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`);
    await ensureLogin(client, username, password, MIGRATOR_DATABASE_ROLE);
    await client.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${MIGRATOR_DATABASE_ROLE}`);
    await runFormatted(client, `'GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO %I', current_database(), $1::text`, [MIGRATOR_DATABASE_ROLE]);
    const { rows } = await client.query<{ statement: string }>(
      `SELECT format('ALTER %s %s OWNER TO %I', kind, name, $1::text) AS statement
         FROM (SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
                      c.oid::regclass::text AS name
                 FROM pg_class c
                WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = current_user::regrole
                  AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
                  -- a serial or identity column's sequence follows its table
                  AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d
                                   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
               UNION ALL
               SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.oid::regprocedure::text
                 FROM pg_proc p
                WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = current_user::regrole AND p.prokind IN ('f', 'p')
               UNION ALL
               SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype::text
                 FROM pg_type t
                WHERE t.typnamespace = 'public'::regnamespace AND t.typowner = current_user::regrole AND t.typtype IN ('e', 'd', 'r')) owned`,
      [MIGRATOR_DATABASE_ROLE],
    );
    // ALTER ... OWNER locks each table until the commit (on the first deploy with a migrator
    // only: later ones find nothing left to hand over). Give up soon rather than queue the
    // platform's traffic behind a long query; the deploy fails and is simply run again.
    if (rows.length > 0) await client.query(`SET LOCAL lock_timeout = '5s'`);
    for (const { statement } of rows) await client.query(statement);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
