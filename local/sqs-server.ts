import path from 'node:path';
import { startServiceProcess } from './service-process';

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
  const service = await startServiceProcess(path.join(__dirname, 'sqs-server-process.ts'), [String(port)]);
  const { endpoint } = JSON.parse(service.readyLine) as { endpoint: string };
  return { endpoint, stop: () => service.stop() };
}
