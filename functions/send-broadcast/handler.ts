import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AppError } from '../../shared/errors';
import { consumeJobs, type JobHandler } from '../../shared/jobs/consume-jobs';
import { logger, withLambdaContext } from '../../shared/logger';
import { broadcastJobSchema } from '../../shared/messages/broadcasts';
import { runBroadcastJob, stopBroadcast } from '../../shared/messages/bulk-send';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import { queues } from '../../shared/topology';

/**
 * The broadcasts queue's consumer: one broadcast job per message (batch size 1). A job sends
 * pages until the broadcast is done or the time budget is spent, then queues its
 * continuation; a failing job is retried by SQS from its last committed page, and on its
 * last receive the broadcast is PAUSED with the error so its status stops saying RUNNING.
 */
export function createHandler(platform: Platform): JobHandler {
  return consumeJobs({
    name: 'broadcast job',
    schema: broadcastJobSchema,
    run: async (job, budget) => {
      const outcome = await runBroadcastJob(platform, job, budget);
      logger.info('broadcast job done', { broadcastId: job.broadcastId, outcome });
    },
    lastReceive: queues.broadcasts.maxReceiveCount,
    onLastFailure: (job, error) =>
      stopBroadcast(
        platform,
        job.broadcastId,
        error instanceof AppError
          ? { code: error.code, message: error.message }
          : { code: 'BROADCAST_FAILED', message: 'sending failed repeatedly; the broadcast was stopped' },
      ),
  });
}

export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context),
);
