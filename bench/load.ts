/**
 * Runs an HTTP load plan from a separate Node process (bench/http-load.ts), as real clients
 * are, and counts the CPU the stack spent meanwhile (the load generator's own left out).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LoadPlan, LoadResult } from './http-load';
import { stackCpuMs } from './stack-cpu';

const run$ = promisify(execFile);

export interface LoadFigures extends LoadResult {
  /** CPU time the stack spent per call, the load generator's own left out (Linux only). */
  readonly stackCpuUsPerCall?: number;
}

export async function load(plan: LoadPlan): Promise<LoadFigures> {
  const script = path.join(__dirname, 'http-load.ts');
  const running = run$(process.execPath, ['--import', 'tsx', script, JSON.stringify(plan)], { maxBuffer: 1 << 20 });
  const generator = new Set(running.child.pid === undefined ? [] : [running.child.pid]);
  const cpuBefore = stackCpuMs(generator);
  const { stdout } = await running;
  const cpuAfter = stackCpuMs(generator);
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as LoadResult;
  if (cpuBefore === undefined || cpuAfter === undefined) return result;
  return { ...result, stackCpuUsPerCall: Math.round(((cpuAfter - cpuBefore) * 1000) / plan.requests) };
}

/** The middle value (the upper one of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}
