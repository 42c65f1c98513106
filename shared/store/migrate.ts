import { createHash } from 'node:crypto';
import { escapeIdentifier, type Pool } from 'pg';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export class MigrationChanged extends Error {
  constructor(version: number) {
    super(`migration ${version} was edited after it was applied; add a new migration instead`);
  }
}

const MIGRATION_LOCK = 7_340_001;

export interface MigrateOptions {
  /** A role of the connected user to run the migrations as (on AWS, the migrator's group role). */
  readonly asRole?: string;
}

function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/**
 * Applies the migrations that are not yet applied, each in its own transaction, under an
 * advisory lock so concurrent starters (several Lambdas, two `npm start`s) do not race.
 * Returns the versions it applied.
 */
export async function migrate(pool: Pool, migrations: readonly Migration[], options: MigrateOptions = {}): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    // As the group role, so that what the migrations create belongs to it, not to the login.
    if (options.asRole) await client.query(`SET ROLE ${escapeIdentifier(options.asRole)}`);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations');
    const done = new Map(rows.map((row) => [row.version, row.checksum]));
    for (const migration of migrations) {
      const known = done.get(migration.version);
      if (known !== undefined) {
        if (known !== checksum(migration.sql)) throw new MigrationChanged(migration.version);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          checksum(migration.sql),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(migration.version);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    if (options.asRole) await client.query('RESET ROLE').catch(() => undefined);
    client.release();
  }
  return applied;
}
