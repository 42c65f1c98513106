import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AppError } from '../../shared/errors';
import { logger } from '../../shared/logger';
import { broadcastJobSchema, type BroadcastJob } from '../../shared/messages/broadcasts';
import { runBroadcastJob, stopBroadcast } from '../../shared/messages/bulk-send';
import { platformFromEnvironment, type Platform } from '../../shared/platform';

/** Receives before SQS moves a message to the dead-letter queue (the queue's maxReceiveCount). */
const LAST_RECEIVE = 5;

/**
 * The broadcasts queue's consumer: one broadcast job per message (batch size 1). A job sends
 * pages until the broadcast is done or the time budget is spent, then queues its
 * continuation; a failing job is retried by SQS from its last committed page, and on its
 * last receive the broadcast is PAUSED with the error so its status stops saying RUNNING.
 */
export function createHandler(platform: Platform) {
  return async (event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const job = parseJob(record.body);
      if (!job) {
        logger.error('poisoned broadcast message: not a job', { messageId: record.messageId });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        const outcome = await runBroadcastJob(platform, job, { remainingMs: () => context.getRemainingTimeInMillis() });
        logger.info('broadcast job done', { broadcastId: job.broadcastId, outcome });
      } catch (error) {
        logger.error('broadcast job failed', { messageId: record.messageId, broadcastId: job.broadcastId, error: String(error) });
        if (Number(record.attributes.ApproximateReceiveCount) >= LAST_RECEIVE) {
          const reason = error instanceof AppError ? { code: error.code, message: error.message } : { code: 'BROADCAST_FAILED', message: 'sending failed repeatedly; the broadcast was stopped' };
          await stopBroadcast(platform, job.broadcastId, reason).catch((failure: unknown) =>
            logger.error('could not stop the failed broadcast', { broadcastId: job.broadcastId, error: String(failure) }),
          );
        }
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

function parseJob(body: string): BroadcastJob | undefined {
  try {
    const parsed = broadcastJobSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => createHandler(await platformFromEnvironment())(event, context);
