import { z } from 'zod';
import { ValidationFailed } from '../errors';

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  minute: 60,
  minutes: 60,
  hour: 3600,
  hours: 3600,
  day: 86_400,
  days: 86_400,
};

/**
 * The next time an EventBridge Scheduler expression fires after `after`. Supports the
 * forms Satellite creates: `rate(N unit)` and `cron(m h * * ? *)` (daily at h:m UTC).
 */
export function nextRunAfter(expression: string, after: Date): Date {
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  if (rate) {
    const seconds = Number(rate[1]) * (UNIT_SECONDS[rate[2] ?? ''] ?? 0);
    if (seconds <= 0) throw new ValidationFailed(`invalid schedule expression ${expression}`);
    // Aligned to the epoch so restarts do not drift the cadence.
    const periodMs = seconds * 1000;
    return new Date((Math.floor(after.getTime() / periodMs) + 1) * periodMs);
  }
  const daily = /^cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)$/.exec(expression);
  if (daily) {
    const minute = Number(daily[1]);
    const hour = Number(daily[2]);
    const candidate = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate(), hour, minute));
    if (candidate.getTime() <= after.getTime()) candidate.setUTCDate(candidate.getUTCDate() + 1);
    return candidate;
  }
  throw new ValidationFailed(`unsupported schedule expression ${expression}`);
}

/** The longest period a `rate(...)` schedule may have: a year. */
const MAX_RATE_SECONDS = 366 * 86_400;

/**
 * A schedule a caller may give: `rate(N minutes|hours|days)` up to a year, or
 * `cron(m h * * ? *)` (daily at h:m UTC) with a real minute and hour.
 */
export const scheduleExpressionSchema = z
  .string()
  .trim()
  .max(100)
  .refine(
    (expression) => {
      const rate = /^rate\((\d{1,9}) (minutes?|hours?|days?)\)$/.exec(expression);
      if (rate) {
        const seconds = Number(rate[1]) * (UNIT_SECONDS[rate[2] ?? ''] ?? 0);
        return seconds > 0 && seconds <= MAX_RATE_SECONDS;
      }
      const daily = /^cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)$/.exec(expression);
      return daily !== null && Number(daily[1]) <= 59 && Number(daily[2]) <= 23;
    },
    { message: 'use rate(N minutes|hours|days), at most a year, or cron(m h * * ? *) with 0-59 and 0-23' },
  );
