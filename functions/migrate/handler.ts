import { withLambdaContext } from '../../shared/logger';
import { platformFromEnvironment } from '../../shared/platform';
import { applyDeployMigrations } from '../../shared/store/deploy-migrations';

/**
 * Runs on every deploy (a CDK trigger), connected as the master user, before any other
 * function is updated: the migrator runs the migrations, then the application login is made
 * to match its secret (`shared/store/deploy-migrations.ts`).
 */
export const handler = withLambdaContext(async (): Promise<{ applied: number[] }> => ({
  applied: await applyDeployMigrations(await platformFromEnvironment()),
}));
