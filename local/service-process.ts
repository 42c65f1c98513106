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
