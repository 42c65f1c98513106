import { provisionAccount, provisionRequestSchema, type ProvisionedAccount } from '../../shared/accounts/provision';
import { ValidationFailed } from '../../shared/errors';
import { logger, withLambdaContext } from '../../shared/logger';
import { platformFromEnvironment, type Platform } from '../../shared/platform';

/**
 * Invoked by an operator (`aws lambda invoke`), never through the API: creates a customer
 * account with its first API key and login. The answer holds the secrets, shown this once;
 * the log only says which account was made.
 */
export function createHandler(platform: Platform) {
  return async (event: unknown): Promise<ProvisionedAccount> => {
    const parsed = provisionRequestSchema.safeParse(event);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 20).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
      // The invoker sees only the message: it names every problem.
      throw new ValidationFailed(
        `invalid request (${issues.map((issue) => `${issue.path || 'event'}: ${issue.message}`).join('; ')}); send {"account": "<name>", "user": {"email": "<email>", "password"?: "<at least 10 characters>"}}`,
        issues,
      );
    }
    const provisioned = await provisionAccount(platform.db, parsed.data);
    logger.info('account provisioned', { accountId: provisioned.accountId });
    return provisioned;
  };
}

export const handler = withLambdaContext(async (event: unknown): Promise<ProvisionedAccount> =>
  createHandler(await platformFromEnvironment())(event),
);
