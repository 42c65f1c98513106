import { closeAbandonedClaims, emailSends, requeueStalledSends, type SendLedger } from '../../shared/email/send-sweep';
import { logger, withLambdaContext } from '../../shared/logger';
import { textSends } from '../../shared/messages/deliver-texts';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import type { ScheduledFunction } from '../../shared/schedules/event';

const ledgers: readonly (readonly [string, SendLedger])[] = [
  ['email', emailSends],
  ['texts', textSends],
];

/**
 * Every minute, for email's sends and for SMS and Viber's: queue again sends whose queue
 * message was lost (`requeueStalledSends`), and close the claims of workers that died
 * mid-send (`closeAbandonedClaims`).
 */
export function createHandler(platform: Platform): ScheduledFunction {
  return async () => {
    for (const [channel, ledger] of ledgers) {
      const queued = await requeueStalledSends(platform, ledger);
      const abandoned = await closeAbandonedClaims(platform, ledger);
      if (queued > 0 || abandoned > 0) logger.info('send sweep', { channel, queued, abandoned });
    }
  };
}

export const handler: ScheduledFunction = withLambdaContext(async (event, context) => createHandler(await platformFromEnvironment())(event, context));
