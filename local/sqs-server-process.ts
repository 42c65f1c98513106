/**
 * Entry point of the SQS server's own process (see `startSqsServer`): prints its endpoint
 * as one JSON line, then serves until its parent closes stdin or signals it.
 */
import { freePort } from './free-port';
import { serveUntilParentLeaves } from './service-process';

async function main(): Promise<void> {
  // fauxqs is ESM-only; a dynamic import keeps this module loadable from CommonJS.
  const { startFauxqs } = await import('fauxqs');
  const requested = Number(process.argv[2] ?? 0);
  const server = await startFauxqs({ port: requested || (await freePort()), host: '127.0.0.1', logger: false });
  process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${server.port}` })}\n`);

  serveUntilParentLeaves(() => server.stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`the SQS server could not start: ${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
