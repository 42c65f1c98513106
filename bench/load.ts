/**
 * Runs an HTTP load plan from a separate Node process (bench/http-load.ts), as real clients
 * are, and counts the CPU the stack spent meanwhile (the load generator's own left out).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LoadPlan, LoadResult } from './http-load';
import { stackCpuMs, stackCpuMsByCommand } from './stack-cpu';

const run$ = promisify(execFile);

export interface LoadFigures extends LoadResult {
  /** CPU time the stack spent per call, the load generator's own left out (Linux only). */
  readonly stackCpuUsPerCall?: number;
  /** The part of it PostgreSQL's processes spent (the server and its backends). */
  readonly postgresCpuUsPerCall?: number;
}

export async function load(plan: LoadPlan): Promise<LoadFigures> {
  const script = path.join(__dirname, 'http-load.ts');
  const running = run$(process.execPath, ['--import', 'tsx', script, JSON.stringify(plan)], { maxBuffer: 1 << 20 });
  const generator = new Set(running.child.pid === undefined ? [] : [running.child.pid]);
  const cpuBefore = stackCpuMsByCommand(generator);
  const { stdout } = await running;
  const cpuAfter = stackCpuMsByCommand(generator);
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as LoadResult;
  if (cpuBefore === undefined || cpuAfter === undefined) return result;
  const total = (byCommand: Map<string, number>) => [...byCommand.values()].reduce((sum, ms) => sum + ms, 0);
  const perCall = (ms: number) => Math.round((ms * 1000) / plan.requests);
  return {
    ...result,
    stackCpuUsPerCall: perCall(total(cpuAfter) - total(cpuBefore)),
    postgresCpuUsPerCall: perCall((cpuAfter.get('postgres') ?? 0) - (cpuBefore.get('postgres') ?? 0)),
  };
}

/**
 * CPU the stack spends while `work` runs, in µs per operation, the given processes (load
 * generators, receivers) left out. Undefined where /proc is missing.
 */
export async function stackCpuUsPer(operations: number, excluded: ReadonlySet<number>, work: () => Promise<void>): Promise<number | undefined> {
  const before = stackCpuMs(excluded);
  await work();
  const after = stackCpuMs(excluded);
  return before === undefined || after === undefined ? undefined : Math.round(((after - before) * 1000) / operations);
}

/**
 * Rounds of one figure as a bench reports them: the median, and every round's value beside
 * it (the spread says how far this machine wandered during the run).
 */
export function acrossRounds(name: string, values: readonly (number | undefined)[]): Record<string, number | string> {
  const known = values.filter((value): value is number => value !== undefined);
  if (known.length < values.length || known.length === 0) return { [name]: 'n/a' };
  return { [name]: median(known), [`${name} by round`]: known.join(' / '), [`${name} spread %`]: spreadPercent(known) };
}

/**
 * `acrossRounds` for benches that keep each round's figures in one object: the returned
 * function picks one figure from every round, rounded to `digits` decimals when given.
 */
export function figureByRound<Round>(rounds: readonly Round[]) {
  return (name: string, pick: (round: Round) => number | undefined, digits?: number): Record<string, number | string> =>
    acrossRounds(
      name,
      rounds.map((round) => {
        const value = pick(round);
        return value === undefined || digits === undefined ? value : rounded(value, digits);
      }),
    );
}

/** How far the values wandered: (max − min) / median, in per cent. */
export function spreadPercent(values: readonly number[]): number {
  const middle = median(values);
  return middle === 0 ? 0 : Math.round(((Math.max(...values) - Math.min(...values)) / middle) * 100);
}

/** `value` to `digits` decimals. */
export function rounded(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** a / b to two decimals, 'n/a' when either is unknown. */
export function ratio(a: number | undefined, b: number | undefined): number | string {
  return a === undefined || b === undefined || b === 0 ? 'n/a' : Math.round((a / b) * 100) / 100;
}

/** A `ratio` as a figure `acrossRounds` takes: undefined where it is 'n/a'. */
export function numberOrUndefined(value: number | string): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** The middle value (the upper one of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}
