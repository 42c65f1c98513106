import { platformFromEnvironment } from '../../shared/platform';
import { migrate } from '../../shared/store/migrate';
import { migrations } from '../../shared/store/migrations';
import { logger } from '../../shared/logger';

/** Runs on every deploy (a CDK trigger): applies the migrations not yet applied. */
export const handler = async (): Promise<{ applied: number[] }> => {
  const platform = await platformFromEnvironment();
  const applied = await migrate(platform.db, migrations);
  logger.info('migrations applied', { applied });
  return { applied };
};
