import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { ExportNotFound } from '../../shared/exports/exports';
import { countOverdueDatasets } from '../../shared/exports/freshness';
import { startExportRuns } from '../../shared/exports/runs';
import { logger, withLambdaContext } from '../../shared/logger';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import type { ScheduleEvent, ScheduledFunction } from '../../shared/schedules/event';

const detailSchema = z.object({ exportId: z.number().int().positive(), accountId: z.number().int().positive() });

/** Target of each export's schedule: starts one run per dataset and enqueues its job. */
export function createHandler(platform: Platform): ScheduledFunction {
  return async (event: ScheduleEvent) => {
    const detail = detailSchema.parse(event.detail);
    try {
      await countOverdueDatasets(platform, detail.exportId);
      await startExportRuns(platform, detail.accountId, detail.exportId, 'schedule');
    } catch (error) {
      // A schedule that outlived its export (deleted between firing and now) has nothing to do.
      if (error instanceof ExportNotFound) {
        logger.warn('schedule fired for a deleted export', { exportId: detail.exportId });
        return;
      }
      throw error;
    }
  };
}

export const handler = withLambdaContext(async (event: ScheduleEvent, context: Context): Promise<void> =>
  createHandler(await platformFromEnvironment())(event, context),
);
