import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { markContactImportFailed, runContactImport } from '../../shared/contacts/bulk-import';
import { logger } from '../../shared/logger';
import { platformFromEnvironment, type Platform } from '../../shared/platform';

const jobMessage = z.object({ jobId: z.uuid() }).strict();

/** Receives before SQS moves a message to the dead-letter queue (the queue's maxReceiveCount). */
const LAST_RECEIVE = 5;

/**
 * The imports queue's consumer: one bulk add/update job per message. A job resumes from its
 * last committed chunk when a message comes back; on its last receive a failing job is marked
 * FAILED so its status endpoint stops saying RUNNING.
 */
export function createHandler(platform: Platform) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      let jobId: string;
      try {
        jobId = jobMessage.parse(JSON.parse(record.body)).jobId;
      } catch {
        logger.error('poisoned import message: not a job', { messageId: record.messageId });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        await runContactImport(platform.db, jobId);
      } catch (error) {
        logger.error('contact import failed', { messageId: record.messageId, jobId, error: String(error) });
        if (Number(record.attributes.ApproximateReceiveCount) >= LAST_RECEIVE) await markContactImportFailed(platform.db, jobId);
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => createHandler(await platformFromEnvironment())(event);
