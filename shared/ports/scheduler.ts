export interface ScheduleDefinition {
  /** Unique, stable name, e.g. `export-42`. */
  readonly name: string;
  /** `rate(15 minutes)`, `rate(1 hour)`, `cron(0 3 * * ? *)` as EventBridge Scheduler accepts them. */
  readonly expression: string;
  /** Which scheduled function receives it (a key of the stack's schedule targets). */
  readonly target: string;
  /** Handed to the target as the event's `detail`. */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly enabled: boolean;
}

export interface Scheduler {
  upsert(schedule: ScheduleDefinition): Promise<void>;
  delete(name: string): Promise<void>;
}
