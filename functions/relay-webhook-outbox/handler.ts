import { logger, withLambdaContext } from '../../shared/logger';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import type { ScheduledFunction } from '../../shared/schedules/event';
import { relayPendingOutboxes } from '../../shared/webhooks/outbox';

/** Every minute: queue webhook outbox rows whose relay right after commit did not happen. */
export function createHandler(platform: Platform): ScheduledFunction {
  return async () => {
    const queued = await relayPendingOutboxes(platform);
    if (queued > 0) logger.info('webhook outbox sweep queued rows', { queued });
  };
}

export const handler: ScheduledFunction = withLambdaContext(async (event, context) => createHandler(await platformFromEnvironment())(event, context));
