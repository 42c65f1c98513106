import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { logger } from '../../shared/logger';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import type { ScheduleEvent } from '../../shared/schedules/event';
import { assemblePage, pageSchema, startWorkflowRun, type TriggerEventPage } from '../../shared/trigger-events/assemble';

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
    const queued = await startWorkflowRun(platform, detail.data.accountId, detail.data.workflowId, Number.isNaN(at.getTime()) ? platform.clock.now() : at);
    logger.info('regular workflow run queued', { workflowId: detail.data.workflowId, members: queued });
  };

  const onPages = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const page = parsePage(record.body);
      if (!page) {
        logger.error('poisoned trigger-event page', { messageId: record.messageId });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        const outcome = await assemblePage(platform, page);
        logger.info('trigger-event page done', { workflowId: page.workflowId, day: page.day, ...outcome });
      } catch (error) {
        // Retried by SQS; the ledger makes the retry emit only what this attempt did not.
        logger.error('trigger-event page failed', { messageId: record.messageId, workflowId: page.workflowId, error: String(error) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };

  return async (event: SQSEvent | ScheduleEvent): Promise<SQSBatchResponse | void> => ('Records' in event ? onPages(event) : onSchedule(event));
}

function parsePage(body: string): TriggerEventPage | undefined {
  try {
    const parsed = pageSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const handler = async (event: SQSEvent | ScheduleEvent, _context: Context): Promise<SQSBatchResponse | void> =>
  createHandler(await platformFromEnvironment())(event);
