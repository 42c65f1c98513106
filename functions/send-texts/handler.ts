import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { JobHandler } from '../../shared/jobs/consume-jobs';
import { withLambdaContext } from '../../shared/logger';
import { consumeSendJobs } from '../../shared/email/deliver-sends';
import { textSendJob } from '../../shared/messages/deliver-texts';
import { platformFromEnvironment, type Platform } from '../../shared/platform';

/** The texts queue's consumer: each job is up to 100 SMS or Viber sends of one account (`runSendJob`). */
export function createHandler(platform: Platform): JobHandler {
  return consumeSendJobs(platform, textSendJob);
}

export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context),
);
