import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { consumeJobs, type JobHandler } from '../../shared/jobs/consume-jobs';
import { logger, withLambdaContext } from '../../shared/logger';
import { sendJobSchema } from '../../shared/email/deliver-sends';
import { deliverTexts, queueTexts } from '../../shared/messages/deliver-texts';
import { platformFromEnvironment, type Platform } from '../../shared/platform';

/**
 * The texts queue's consumer: each job is up to 100 SMS or Viber sends of one account. What
 * the provider refused for now is queued again with its delay; a job that fails outright is
 * retried by SQS, and the sends it already claimed are never sent again.
 */
export function createHandler(platform: Platform): JobHandler {
  return consumeJobs({
    name: 'text job',
    schema: sendJobSchema,
    run: async (job) => {
      const outcome = await deliverTexts(platform, job);
      for (const deferred of outcome.deferred) await queueTexts(platform, job.accountId, deferred.sendIds, deferred.delaySeconds);
      if (outcome.failed > 0 || outcome.deferred.length > 0) {
        logger.info('text job done', {
          accountId: job.accountId,
          accepted: outcome.accepted,
          failed: outcome.failed,
          deferred: outcome.deferred.reduce((n, d) => n + d.sendIds.length, 0),
        });
      }
    },
  });
}

export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context),
);
