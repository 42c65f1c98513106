import { logger } from '../logger';
import type { Platform } from '../platform';
import { bootstrapMigrator, ensureApplicationLogin, MIGRATOR_DATABASE_ROLE } from './database-roles';
import { migrate } from './migrate';
import { migrations } from './migrations';
import { createPool, type DatabaseSecret } from './pool';

/**
 * What the migrate function does at every deploy, its platform connected as the master user:
 * makes the migrator (role, login, ownership), applies the migrations not yet applied as the
 * migrator over a connection of its own, then makes the application login match its secret.
 * Without a migrator secret (a stack from before it) the master user migrates, as it used to.
 */
export async function applyDeployMigrations(platform: Platform): Promise<number[]> {
  const { config, secrets } = platform;
  const readSecret = async (id: string) => JSON.parse(await secrets.get(id)) as DatabaseSecret;
  let applied: number[];
  if (config.migratorDatabaseSecretId && config.database.kind === 'secret') {
    const migrator = await readSecret(config.migratorDatabaseSecretId);
    await bootstrapMigrator(platform.db, migrator.username, migrator.password);
    const pool = await createPool({ ...config.database, secretId: config.migratorDatabaseSecretId }, secrets, 1, platform.tracing);
    try {
      applied = await migrate(pool, migrations, { asRole: MIGRATOR_DATABASE_ROLE });
    } finally {
      await pool.end();
    }
    logger.info('migrations applied', { applied, as: migrator.username });
  } else {
    applied = await migrate(platform.db, migrations);
    logger.info('migrations applied', { applied });
  }
  if (config.appDatabaseSecretId) {
    const app = await readSecret(config.appDatabaseSecretId);
    await ensureApplicationLogin(platform.db, app.username, app.password);
    logger.info('application login ready', { username: app.username });
  }
  return applied;
}
