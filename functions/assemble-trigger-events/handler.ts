import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { consumeJobs } from '../../shared/jobs/consume-jobs';
import type { AppError } from '../../shared/errors';
import { logger, withLambdaContext } from '../../shared/logger';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import type { ScheduleEvent } from '../../shared/schedules/event';
import { isPermanentSourceFailure } from '../../shared/sources/query-failure';
import { assemblePage, pageSchema, startWorkflowRun } from '../../shared/trigger-events/assemble';

const scheduleDetail = z.object({ accountId: z.number().int().positive(), workflowId: z.number().int().positive() });

/**
 * Trigger-event assembly. Two doors, one function: a workflow's schedule fires it (evaluate
 * the segment, queue its members in pages) and the triggerEvents queue feeds it those pages
 * (assemble jsonParam, emit each member's event once per day, send the workflow's message).
 */
export function createHandler(platform: Platform) {
  const onSchedule = async (event: ScheduleEvent): Promise<void> => {
    const detail = scheduleDetail.safeParse(event.detail);
    if (!detail.success) {
      logger.error('trigger-event schedule without a workflow', { detail: JSON.stringify(event.detail).slice(0, 500) });
      return;
    }
    // The scheduled time, not the arrival time, names the day: a late firing still counts for its day.
    const at = event.time ? new Date(event.time) : platform.clock.now();
    try {
      const queued = await startWorkflowRun(
        platform,
        detail.data.accountId,
        detail.data.workflowId,
        Number.isNaN(at.getTime()) ? platform.clock.now() : at,
      );
      logger.info('regular workflow run queued', { workflowId: detail.data.workflowId, members: queued });
    } catch (error) {
      // Kept on the workflow (lastRun); a retry of this firing would meet the same refusal.
      if (!isPermanentSourceFailure(error)) throw error;
      logger.warn('regular workflow run failed', { workflowId: detail.data.workflowId, code: (error as AppError).code });
    }
  };

  // Retried by SQS on failure; the ledger makes a retry emit only what the failed attempt did not.
  const onPages = consumeJobs({
    name: 'trigger-event page',
    schema: pageSchema,
    run: async (page) => {
      const outcome = await assemblePage(platform, page);
      logger.info('trigger-event page done', { workflowId: page.workflowId, day: page.day, ...outcome });
    },
  });

  return async (event: SQSEvent | ScheduleEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse | void> =>
    'Records' in event ? onPages(event, context) : onSchedule(event);
}

export const handler = withLambdaContext(async (event: SQSEvent | ScheduleEvent, context: Context): Promise<SQSBatchResponse | void> =>
  createHandler(await platformFromEnvironment())(event, context),
);
