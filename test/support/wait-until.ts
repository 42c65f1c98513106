/**
 * Polls until `condition` holds (every 20 ms, at most ~100 times), else fails naming `what`:
 * for state another process settles just after the event a test saw.
 */
export async function waitUntil(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; !(await condition()); tries += 1) {
    if (tries > 100) throw new Error(`${what} never happened`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
