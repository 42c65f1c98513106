import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { applySesEvent, sesEventMessageSchema } from '../../shared/email/ses-events';
import { consumeJobs, type JobHandler } from '../../shared/jobs/consume-jobs';
import { withLambdaContext } from '../../shared/logger';
import { platformFromEnvironment, type Platform } from '../../shared/platform';

/**
 * The email events queue's consumer: SES's configuration-set events (through SNS) become
 * the sends' activities. A record that is not an SES event fails every time and goes to the
 * dead-letter queue, where its alarm calls a person.
 */
export function createHandler(platform: Platform): JobHandler {
  return consumeJobs({
    name: 'SES event',
    schema: sesEventMessageSchema,
    run: async (event) => {
      await applySesEvent(platform, event);
    },
  });
}

export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context),
);
