import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { JobHandler } from '../../shared/jobs/consume-jobs';
import { withLambdaContext } from '../../shared/logger';
import { consumeSendJobs, emailSendJob } from '../../shared/email/deliver-sends';
import { platformFromEnvironment, type Platform } from '../../shared/platform';

/** The emails queue's consumer: each job is up to 100 sends of one account (`runSendJob`). */
export function createHandler(platform: Platform): JobHandler {
  return consumeSendJobs(platform, emailSendJob);
}

export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context),
);
