import { spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

/**
 * For a process that serves its parent (the SQS server, the test services): keeps it up until
 * the parent closes its stdin (also when the parent dies) or signals it, then runs `stop`
 * once and exits.
 */
export function serveUntilParentLeaves(stop: () => Promise<void>): void {
  let stopping = false;
  const leave = async () => {
    if (stopping) return;
    stopping = true;
    await stop().catch(() => undefined);
    process.exit(0);
  };
  process.stdin.on('end', () => void leave());
  process.stdin.on('close', () => void leave());
  process.stdin.resume();
  process.on('SIGTERM', () => void leave());
  process.on('SIGINT', () => void leave());
}

export interface ServiceProcess {
  /** The first line the process printed: what it tells its parent once it is ready. */
  readonly readyLine: string;
  /** Every later line of its stdout. */
  readonly lines: Interface;
  /** Settles when the process has exited, whatever the reason. */
  readonly exited: Promise<void>;
  /** Its process id (a bench leaves its CPU out of the stack's). */
  readonly pid: number | undefined;
  /** Closes its stdin (it stops itself, see `serveUntilParentLeaves`) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a TypeScript entry point as a child service process and waits for its first line.
 * `environment` is added to this process's own (secrets go there, never in `args`, which
 * every local user can read).
 */
export async function startServiceProcess(
  script: string,
  args: readonly string[] = [],
  environment: Readonly<Record<string, string>> = {},
): Promise<ServiceProcess> {
  // Benches profile the stack's own processes too (NODE_OPTIONS may not carry --cpu-prof).
  const profile = process.env.SATELLITE_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SATELLITE_CPU_PROF_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...environment },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const readyLine = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    void exited.then(() => reject(new Error(`${script} exited before it was ready`)));
  });
  return {
    readyLine,
    lines,
    exited,
    pid: child.pid,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
