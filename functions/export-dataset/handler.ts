import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { exportDatasetJob } from '../../shared/exports/run-job';
import { exportJobSchema } from '../../shared/exports/runs';
import { logger } from '../../shared/logger';
import { platformFromEnvironment, type Platform } from '../../shared/platform';

/**
 * The exports queue's consumer: one run of one dataset per message (batch size 1). A message
 * that is not a job is reported failed every time it arrives, so SQS moves it to the
 * dead-letter queue after the queue's receive limit; the reason is in the log.
 */
export function createHandler(platform: Platform) {
  return async (event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const job = parseJob(record.body);
      if (!job) {
        logger.error('poisoned export job: not a job message', { messageId: record.messageId, receiveCount: record.attributes.ApproximateReceiveCount });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        await exportDatasetJob(platform, job, { remainingMs: () => context.getRemainingTimeInMillis() });
      } catch (error) {
        // The run's own failures are recorded and retried inside; this is the platform itself failing.
        logger.error('export job could not run', { messageId: record.messageId, runId: job.runId, error: String(error) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

function parseJob(body: string): ReturnType<typeof exportJobSchema.parse> | undefined {
  try {
    const parsed = exportJobSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context);
