/** Doublings before the schedule settles on one try per 60 units (seed 001: "…and so on to one request an hour"). */
const SCHEDULE_UNITS = [1, 2, 4, 8, 16, 32] as const;
const CEILING_UNITS = 60;
const JITTER = 0.1;
/** SQS refuses a visibility timeout above 12 hours. */
const MAX_DELAY_SECONDS = 43_200;

/**
 * The wait before retrying a lane that has failed `failedAttempts` times in a row:
 * 1, 2, 4, 8, 16, 32, then 60 base units (a minute each by default), ±10 % jitter so
 * receivers that fail together do not get their retries back together.
 */
export function nextRetryDelaySeconds(failedAttempts: number, baseSeconds: number, random: () => number = Math.random): number {
  const units = SCHEDULE_UNITS[Math.max(0, failedAttempts - 1)] ?? CEILING_UNITS;
  const jittered = units * baseSeconds * (1 - JITTER + 2 * JITTER * random());
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(jittered)));
}

/** The schedule above as a client shows it: the growing waits, then the steady one, before jitter. */
export interface RetrySchedule {
  readonly delaysSeconds: readonly number[];
  readonly thenEverySeconds: number;
  readonly jitterRatio: number;
}

export function retrySchedule(baseSeconds: number): RetrySchedule {
  const capped = (units: number) => Math.min(MAX_DELAY_SECONDS, units * baseSeconds);
  return { delaysSeconds: SCHEDULE_UNITS.map(capped), thenEverySeconds: capped(CEILING_UNITS), jitterRatio: JITTER };
}
