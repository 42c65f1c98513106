import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { countFinishedImport } from '../../shared/contacts/import-metrics';
import { markContactImportFailed, runContactImport } from '../../shared/contacts/bulk-import';
import { readUploadedFile } from '../../shared/contacts/file-import';
import { consumeJobs, type JobHandler } from '../../shared/jobs/consume-jobs';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import { queues } from '../../shared/topology';
import { withLambdaContext } from '../../shared/logger';

const importJob = z.object({ jobId: z.uuid() }).strict();

/**
 * The imports queue's consumer: one bulk add/update job per message. A job resumes from its
 * last committed chunk when a message comes back; on its last receive a failing job is marked
 * FAILED so its status endpoint stops saying RUNNING.
 */
export function createHandler(platform: Platform): JobHandler {
  return consumeJobs({
    name: 'contact import',
    schema: importJob,
    run: async (job) => {
      // contacts/upload jobs hold a file to read first; then every job imports alike.
      await readUploadedFile(platform, job.jobId);
      await runContactImport(platform.db, job.jobId);
      await countFinishedImport(platform, job.jobId);
    },
    lastReceive: queues.imports.maxReceiveCount,
    onLastFailure: (job) => markContactImportFailed(platform.db, job.jobId),
  });
}

export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context),
);
