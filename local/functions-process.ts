/**
 * Entry point of the local functions process (see `startLocalRuntime`): the queue consumers
 * and scheduled functions, on a platform built from the environment the parent gives it, as
 * a Lambda of the stack is. Prints one line once it is ready, then consumes until its
 * parent closes stdin or signals it.
 */
import { readConfig } from '../shared/config';
import { createPlatform } from '../shared/platform';
import { createLocalFunctions, type LocalQueueAddresses } from './functions';
import { serveUntilParentLeaves } from './service-process';

async function main(): Promise<void> {
  const queues = JSON.parse(process.argv[2] ?? '{}') as LocalQueueAddresses;
  const config = readConfig(process.env);
  const platform = await createPlatform(config);
  const functions = createLocalFunctions(platform, config.sqsEndpoint ?? '', queues);
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  functions.start();

  serveUntilParentLeaves(async () => {
    await functions.stop();
    await platform.emailChannels.close();
    await platform.db.end();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`the local functions could not start: ${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
