import { closeAbandonedClaims, emailSends, requeueStalledSends } from '../../shared/email/send-sweep';
import { logger, withLambdaContext } from '../../shared/logger';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import type { ScheduledFunction } from '../../shared/schedules/event';

/**
 * Every minute: queue again sends whose queue message was lost (`requeueStalledSends`), and
 * close the claims of workers that died mid-send (`closeAbandonedClaims`).
 */
export function createHandler(platform: Platform): ScheduledFunction {
  return async () => {
    const queued = await requeueStalledSends(platform, emailSends);
    const abandoned = await closeAbandonedClaims(platform, emailSends);
    if (queued > 0 || abandoned > 0) logger.info('email send sweep', { queued, abandoned });
  };
}

export const handler: ScheduledFunction = withLambdaContext(async (event, context) => createHandler(await platformFromEnvironment())(event, context));
