import { freePort } from './free-port';

export interface RunningSqs {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** An SQS-protocol server in this process (fauxqs): FIFO groups, visibility timeouts, redrive. */
export async function startSqsServer(port?: number): Promise<RunningSqs> {
  // fauxqs is ESM-only; a dynamic import keeps this module loadable from CommonJS.
  const { startFauxqs } = await import('fauxqs');
  const server = await startFauxqs({ port: port ?? (await freePort()), host: '127.0.0.1', logger: false });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}
