import type { Pool } from 'pg';

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

/**
 * Until a session of this database waits for a lock: the moment a test lets the lock's holder
 * go on. `done`, when it says so first, ends the wait (the waiter got through without one).
 */
export function waitUntilLockWait(db: Pool, what: string, done: () => boolean = () => false): Promise<void> {
  return waitUntil(async () => {
    if (done()) return true;
    const { rows } = await db.query<{ waiting: number }>(
      `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return rows[0]!.waiting > 0;
  }, what);
}
