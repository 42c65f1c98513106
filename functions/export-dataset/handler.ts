import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { exportDatasetJob } from '../../shared/exports/run-job';
import { exportJobSchema } from '../../shared/exports/runs';
import { consumeJobs, type JobHandler } from '../../shared/jobs/consume-jobs';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import { withLambdaContext } from '../../shared/logger';

/**
 * The exports queue's consumer: one run of one dataset per message (batch size 1). The run's
 * own failures are recorded and retried inside; a failure here is the platform itself failing.
 */
export function createHandler(platform: Platform): JobHandler {
  return consumeJobs({
    name: 'export job',
    schema: exportJobSchema,
    run: (job, time) => exportDatasetJob(platform, job, time).then(() => undefined),
  });
}

export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context),
);
