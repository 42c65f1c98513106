import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { consumeJobs, type JobHandler } from '../../shared/jobs/consume-jobs';
import { withLambdaContext } from '../../shared/logger';
import { runSendJob, sendJobSchema } from '../../shared/email/deliver-sends';
import { textSendJob } from '../../shared/messages/deliver-texts';
import { platformFromEnvironment, type Platform } from '../../shared/platform';

/** The texts queue's consumer: each job is up to 100 SMS or Viber sends of one account (`runSendJob`). */
export function createHandler(platform: Platform): JobHandler {
  return consumeJobs({ name: textSendJob.name, schema: sendJobSchema, run: (job) => runSendJob(platform, job, textSendJob) });
}

export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context),
);
