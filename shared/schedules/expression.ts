import { ValidationFailed } from '../errors';

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  minute: 60,
  minutes: 60,
  hour: 3600,
  hours: 3600,
  day: 86_400,
  days: 86_400,
};

/** The longest period a `rate(...)` schedule may have: a year. */
const MAX_RATE_SECONDS = 366 * 86_400;

/** The forms Satellite creates: `rate(N unit)` and `cron(m h * * ? *)` (daily at h:m UTC). */
type Schedule = { readonly periodMs: number } | { readonly minute: number; readonly hour: number };

function parseSchedule(expression: string): Schedule | undefined {
  const rate = /^rate\((\d{1,9}) (minutes?|hours?|days?)\)$/.exec(expression);
  if (rate) {
    const seconds = Number(rate[1]) * (UNIT_SECONDS[rate[2] ?? ''] ?? 0);
    return seconds > 0 && seconds <= MAX_RATE_SECONDS ? { periodMs: seconds * 1000 } : undefined;
  }
  const daily = /^cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)$/.exec(expression);
  if (!daily) return undefined;
  const minute = Number(daily[1]);
  const hour = Number(daily[2]);
  return minute <= 59 && hour <= 23 ? { minute, hour } : undefined;
}

/** The next time an EventBridge Scheduler expression fires after `after`. */
export function nextRunAfter(expression: string, after: Date): Date {
  const schedule = parseSchedule(expression);
  if (!schedule) throw new ValidationFailed(`unsupported schedule expression ${expression}`);
  if ('periodMs' in schedule) {
    // Aligned to the epoch so restarts do not drift the cadence.
    return new Date((Math.floor(after.getTime() / schedule.periodMs) + 1) * schedule.periodMs);
  }
  const candidate = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate(), schedule.hour, schedule.minute));
  if (candidate.getTime() <= after.getTime()) candidate.setUTCDate(candidate.getUTCDate() + 1);
  return candidate;
}
