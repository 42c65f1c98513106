import { randomUUID } from 'node:crypto';
import { logger } from '../shared/logger';
import type { Platform } from '../shared/platform';
import type { ScheduledFunction } from '../shared/schedules/event';
import { nextRunAfter } from '../shared/schedules/expression';
import { withTransaction } from '../shared/store/transaction';
import { lambdaContext } from './lambda-context';

interface DueSchedule {
  name: string;
  expression: string;
  target: string;
  detail: Record<string, unknown>;
  next_run_at: Date;
}

/**
 * What EventBridge Scheduler does for the local runtime: fires each due schedule of the
 * `local_schedules` table at its target with an EventBridge-shaped event.
 */
export class SchedulerLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly platform: Platform,
    private readonly targets: Readonly<Record<string, ScheduledFunction>>,
    private readonly intervalMs = 1_000,
    /** Each target's time budget, as its function's timeout gives it; Lambda's most (15 minutes) for others. */
    private readonly timeoutsMs: Readonly<Record<string, number>> = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.fireDue().finally(() => {
        this.running = undefined;
      });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * Fires every schedule due at the platform clock's now; returns how many fired. Due rows are
   * claimed (moved to their next time) in one transaction that skips rows another caller holds,
   * so a schedule never fires twice for one due time.
   */
  async fireDue(): Promise<number> {
    const now = this.platform.clock.now();
    const rows = await withTransaction(this.platform.db, async (client) => {
      const due = await client.query<DueSchedule>(
        `SELECT name, expression, target, detail, next_run_at FROM local_schedules
          WHERE enabled AND next_run_at <= $1 ORDER BY next_run_at FOR UPDATE SKIP LOCKED`,
        [now],
      );
      for (const schedule of due.rows) {
        await client.query('UPDATE local_schedules SET next_run_at = $2 WHERE name = $1', [schedule.name, nextRunAfter(schedule.expression, now)]);
      }
      return due.rows;
    });
    for (const schedule of rows) {
      const target = this.targets[schedule.target];
      if (!target) {
        logger.warn('schedule has no local target', { schedule: schedule.name, target: schedule.target });
        continue;
      }
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': schedule.target,
        source: 'satellite.scheduler',
        account: '000000000000',
        time: schedule.next_run_at.toISOString(),
        region: 'local',
        resources: [`arn:aws:scheduler:local:000000000000:schedule/satellite/${schedule.name}`],
        detail: schedule.detail,
      };
      try {
        await target(event, lambdaContext(schedule.target, this.timeoutsMs[schedule.target] ?? 900_000));
      } catch (error) {
        logger.error('scheduled target failed', { schedule: schedule.name, error: String(error) });
      }
    }
    return rows.length;
  }
}
