import { logger, withLambdaContext } from '../../shared/logger';
import { closeAbandonedClaims, requeueStalledSends } from '../../shared/email/send-sweep';
import { textSends } from '../../shared/messages/deliver-texts';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import type { ScheduledFunction } from '../../shared/schedules/event';

/**
 * Every minute: queue again SMS and Viber sends whose queue message was lost, and close the
 * claims of workers that died mid-send (email's sweep, for text sends).
 */
export function createHandler(platform: Platform): ScheduledFunction {
  return async () => {
    const queued = await requeueStalledSends(platform, textSends);
    const abandoned = await closeAbandonedClaims(platform, textSends);
    if (queued > 0 || abandoned > 0) logger.info('text send sweep', { queued, abandoned });
  };
}

export const handler: ScheduledFunction = withLambdaContext(async (event, context) => createHandler(await platformFromEnvironment())(event, context));
