import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface RunningSqs {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * An SQS-protocol server (fauxqs: FIFO groups, visibility timeouts, redrive) in its own
 * process, as SQS is its own service: its request handling never competes with the stack's
 * event loop. The server stops when this process closes its stdin, so it never outlives us.
 */
export async function startSqsServer(port = 0): Promise<RunningSqs> {
  const script = path.join(__dirname, 'sqs-server-process.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then(() => reject(new Error('the SQS server exited before it was ready')));
  });
  const { endpoint } = JSON.parse(line) as { endpoint: string };
  return {
    endpoint,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
