import { logger, withLambdaContext } from '../../shared/logger';
import { platformFromEnvironment } from '../../shared/platform';
import { ensureApplicationLogin } from '../../shared/store/database-roles';
import { migrate } from '../../shared/store/migrate';
import { migrations } from '../../shared/store/migrations';
import type { DatabaseSecret } from '../../shared/store/pool';

/**
 * Runs on every deploy (a CDK trigger), as the master user, before any other function is
 * updated: applies the migrations not yet applied, then makes the application user's role
 * match its secret.
 */
export const handler = withLambdaContext(async (): Promise<{ applied: number[] }> => {
  const platform = await platformFromEnvironment();
  const applied = await migrate(platform.db, migrations);
  logger.info('migrations applied', { applied });
  if (platform.config.appDatabaseSecretId) {
    const secret = JSON.parse(await platform.secrets.get(platform.config.appDatabaseSecretId)) as DatabaseSecret;
    await ensureApplicationLogin(platform.db, secret.username, secret.password);
    logger.info('application login ready', { username: secret.username });
  }
  return { applied };
});
