import type { Pool } from 'pg';

/**
 * Least-privilege database access on AWS. The migrations create `APP_DATABASE_ROLE`, a group
 * role with DML on the platform's tables (and on every table later migrations add, through
 * default privileges); every function but the migrate function logs in as `APP_DATABASE_USER`,
 * a member of it with its own rotated secret. Only the migrate function uses the master user,
 * which owns the schema and runs the DDL.
 *
 * Locally every part connects as the `DATABASE_URL` user: one embedded cluster, no secrets to
 * rotate, and the tests' per-run databases need no role set-up (docs/deploy.md says so).
 */
export const APP_DATABASE_ROLE = 'satellite_app_role';
export const APP_DATABASE_USER = 'satellite_app';

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Makes `username` a login of the application role with this password, creating it if needed.
 * The migrate function runs it at every deploy with the application secret's current value,
 * so the secret and the role never disagree (multi-user rotation adds `<user>_clone` the same way).
 */
export async function ensureApplicationLogin(db: Pool, username: string, password: string): Promise<void> {
  if (!ROLE_NAME.test(username)) throw new Error('the application secret names an invalid database user');
  // Role statements take no bind parameters: format() quotes the name and the password.
  const { rows } = await db.query<{ statement: string }>(
    `SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = $1)
                 THEN format('ALTER ROLE %I WITH LOGIN PASSWORD %L', $1::text, $2::text)
                 ELSE format('CREATE ROLE %I WITH LOGIN PASSWORD %L IN ROLE %I', $1::text, $2::text, $3::text) END AS statement`,
    [username, password, APP_DATABASE_ROLE],
  );
  await db.query(rows[0]!.statement);
  // An existing login (say, created by the rotation) may lack the membership.
  const { rows: grant } = await db.query<{ statement: string }>(`SELECT format('GRANT %I TO %I', $2::text, $1::text) AS statement`, [
    username,
    APP_DATABASE_ROLE,
  ]);
  await db.query(grant[0]!.statement);
}
