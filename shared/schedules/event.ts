import type { Context } from 'aws-lambda';

/**
 * What a scheduled function receives: EventBridge Scheduler delivers the Input we gave the
 * schedule, which carries the EventBridge event fields (`detail-type`, `detail`, `time`).
 */
export interface ScheduleEvent {
  readonly id?: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time?: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export type ScheduledFunction = (event: ScheduleEvent, context: Context) => Promise<void>;
