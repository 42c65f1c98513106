import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { consumeJobs, type JobHandler } from '../../shared/jobs/consume-jobs';
import { withLambdaContext } from '../../shared/logger';
import { emailSendJob, runSendJob, sendJobSchema } from '../../shared/email/deliver-sends';
import { platformFromEnvironment, type Platform } from '../../shared/platform';

/** The emails queue's consumer: each job is up to 100 sends of one account (`runSendJob`). */
export function createHandler(platform: Platform): JobHandler {
  return consumeJobs({ name: emailSendJob.name, schema: sendJobSchema, run: (job) => runSendJob(platform, job, emailSendJob) });
}

export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context),
);
