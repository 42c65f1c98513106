import type { Pool } from 'pg';
import type { Clock } from '../../ports/clock';
import type { ScheduleDefinition, Scheduler } from '../../ports/scheduler';
import { nextRunAfter } from '../../schedules/expression';

/**
 * The local stand-in for EventBridge Scheduler: schedules are rows; the local runtime's
 * scheduler loop fires the due ones with EventBridge-shaped events.
 */
export class TableScheduler implements Scheduler {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
  ) {}

  async upsert(schedule: ScheduleDefinition): Promise<void> {
    const next = nextRunAfter(schedule.expression, this.clock.now());
    await this.pool.query(
      `INSERT INTO local_schedules (name, expression, target, detail, enabled, next_run_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (name) DO UPDATE SET expression = EXCLUDED.expression, target = EXCLUDED.target,
         detail = EXCLUDED.detail, enabled = EXCLUDED.enabled, next_run_at = EXCLUDED.next_run_at, updated_at = now()`,
      [schedule.name, schedule.expression, schedule.target, JSON.stringify(schedule.detail), schedule.enabled, next],
    );
  }

  async delete(name: string): Promise<void> {
    await this.pool.query('DELETE FROM local_schedules WHERE name = $1', [name]);
  }
}
