import { logger, withLambdaContext } from '../../shared/logger';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import type { ScheduledFunction } from '../../shared/schedules/event';
import { pruneAttempts } from '../../shared/webhooks/attempts';

/** Stop starting batches this long before the function's timeout. */
const TIME_RESERVE_MS = 10_000;

/** Every hour: deletes webhook delivery attempts older than the retention period. */
export function createHandler(platform: Platform): ScheduledFunction {
  return async (_event, context) => {
    const { deleted, cutoff } = await pruneAttempts(
      platform.db,
      { now: platform.clock.now(), retentionDays: platform.config.webhookAttemptRetentionDays },
      () => context.getRemainingTimeInMillis() > TIME_RESERVE_MS,
    );
    if (deleted > 0) logger.info('pruned webhook attempts', { deleted, before: cutoff.toISOString() });
  };
}

export const handler: ScheduledFunction = withLambdaContext(async (event, context) => createHandler(await platformFromEnvironment())(event, context));
