/** Stops the services started by global-setup and waits for them to exit. */
export default async function globalTeardown(): Promise<void> {
  const child = globalThis.__satelliteServices;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  await exited;
}
