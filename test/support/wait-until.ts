/**
 * Polls until `condition` holds (every 20 ms, for up to `timeoutMs`), else fails naming `what`:
 * for state another process settles just after the event a test saw.
 */
export async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} never happened`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
