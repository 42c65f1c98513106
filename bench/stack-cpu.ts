import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second, the unit of /proc's CPU times. */
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcessTimes {
  /** The command name (`postgres` for the server and its backends, `node` for the rest). */
  readonly command: string;
  readonly parent: number;
  readonly cpuMs: number;
  /** Of its children that exited and were waited for (PostgreSQL's autovacuum workers, say). */
  readonly exitedChildrenCpuMs: number;
}

/**
 * CPU time (user + system, ms) used so far by this process and every process it started
 * (the API, the functions, the SQS server, PostgreSQL and its backends), leaving out the
 * given processes and theirs: what the stack itself spends, whatever else the machine runs.
 * Linux only (/proc); undefined elsewhere.
 */
export function stackCpuMs(excluded: ReadonlySet<number>): number | undefined {
  const byCommand = stackCpuMsByCommand(excluded);
  return byCommand && [...byCommand.values()].reduce((total, ms) => total + ms, 0);
}

/** `stackCpuMs` split by command name: how much of the stack's CPU PostgreSQL spent, how much Node. */
export function stackCpuMsByCommand(excluded: ReadonlySet<number>): Map<string, number> | undefined {
  return stackCpuMsBy(excluded, (_pid, times) => times.command);
}

/**
 * `stackCpuMs` split by the part of the stack each process plays: PostgreSQL, this process
 * (the API and whatever the bench runs in it), the functions process, the SQS server.
 */
export function stackCpuMsByRole(excluded: ReadonlySet<number>): Map<StackRole, number> | undefined {
  return stackCpuMsBy(excluded, roleOf);
}

export type StackRole = 'postgres' | 'api and bench' | 'functions' | 'sqs server' | 'other';

function roleOf(pid: number, times: ProcessTimes): StackRole {
  if (times.command === 'postgres') return 'postgres';
  if (pid === process.pid) return 'api and bench';
  let commandLine: string;
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return 'other';
  }
  if (commandLine.includes('functions-process')) return 'functions';
  if (commandLine.includes('sqs-server-process')) return 'sqs server';
  return 'other';
}

function stackCpuMsBy<K>(excluded: ReadonlySet<number>, keyOf: (pid: number, times: ProcessTimes) => K): Map<K, number> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const processes = new Map<number, ProcessTimes>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const times = readTimes(entry);
    if (times) processes.set(Number(entry), times);
  }
  const counted = new Set<number>([process.pid]);
  // Children come after their parents in no guaranteed order: repeat until nothing is added.
  for (let added = true; added;) {
    added = false;
    for (const [pid, { parent }] of processes) {
      if (!counted.has(pid) && !excluded.has(pid) && counted.has(parent)) {
        counted.add(pid);
        added = true;
      }
    }
  }
  const byKey = new Map<K, number>();
  for (const pid of counted) {
    const times = processes.get(pid);
    if (!times) continue;
    // Our own exited children are the load generators, left out by design.
    const ms = times.cpuMs + (pid === process.pid ? 0 : times.exitedChildrenCpuMs);
    const key = keyOf(pid, times);
    byKey.set(key, (byKey.get(key) ?? 0) + ms);
  }
  return byKey;
}

/** CPU time (user + system, ms) used so far by one process (a receiver, a load generator); undefined once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  return readTimes(String(pid))?.cpuMs;
}

function readTimes(pid: string): ProcessTimes | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // it exited meanwhile
  }
  // The command name is in parentheses and may hold spaces: the fields start after the last one.
  const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const parent = Number(fields[1]);
  const ms = (ticks: number) => (ticks * 1000) / ticksPerSecond;
  return { command, parent, cpuMs: ms(Number(fields[11]) + Number(fields[12])), exitedChildrenCpuMs: ms(Number(fields[13]) + Number(fields[14])) };
}
