import { performance } from 'node:perf_hooks';

/**
 * When a render has used up its time. The budget is CPU time, as an operator means it ("1 s
 * of CPU per render"), not wall time: on a host whose cores are busy with other work a render
 * gets less than its wall time in CPU, and must not fail for it. Node has no per-thread CPU
 * clock before v23, so the process's CPU time stands in for the thread's: it can only be
 * larger, so a render never runs past its CPU budget (it may stop early when the process's
 * other threads are busy too). Wall time is read first (CPU time never exceeds it, so the
 * fast path costs one clock read), and caps the render at `WALL_CAP_FACTOR` × its budget.
 */
export interface RenderClock {
  expired(): boolean;
}

export const WALL_CAP_FACTOR = 10;

export const NO_LIMIT: RenderClock = { expired: () => false };

export function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1_000;
}

/**
 * Reading the process's CPU time is a system call that would cost a fast render a quarter of
 * its time, so a render starts from a reading at most `REFERENCE_MS` of wall time old: it
 * may count up to that much CPU it did not use (more work charged, never less).
 */
const REFERENCE_MS = 25;
let reference = { wall: Number.NEGATIVE_INFINITY, cpu: 0 };

/** A recent reading of the process's CPU milliseconds (no older than `REFERENCE_MS`). */
export function recentProcessCpuMs(now: number = performance.now()): number {
  if (now - reference.wall > REFERENCE_MS) reference = { wall: now, cpu: processCpuMs() };
  return reference.cpu;
}

export class CpuBudget implements RenderClock {
  private readonly wallStarted = performance.now();
  private readonly cpuStarted = recentProcessCpuMs(this.wallStarted);

  constructor(private readonly budgetMs: number) {}

  expired(): boolean {
    const wall = performance.now() - this.wallStarted;
    if (wall <= this.budgetMs) return false;
    if (wall > this.budgetMs * WALL_CAP_FACTOR) return true;
    return processCpuMs() - this.cpuStarted > this.budgetMs;
  }
}

/** Wall time, for work on a thread that others wait on (the fast path): any stall counts. */
export class WallBudget implements RenderClock {
  private readonly deadline: number;

  /** @param startedAt a `performance.now()` the caller has just read (one clock read less per render). */
  constructor(budgetMs: number, startedAt: number = performance.now()) {
    this.deadline = startedAt + budgetMs;
  }

  expired(): boolean {
    return performance.now() > this.deadline;
  }
}
