import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

/**
 * Runs `work` only if no other invocation holds the job's lease, and reports 'taken' otherwise
 * (a duplicate delivery leaves the work to the holder). The lease is a row with an expiry, not
 * a session-level advisory lock: a job lasting 15 minutes through RDS Proxy would otherwise pin
 * one backend connection for all of it. Each statement borrows a pooled connection and gives it
 * back. `ttlSeconds` must outlast the holder's invocation (its Lambda timeout): a holder that
 * died without releasing frees the job when its lease expires.
 */
export async function withJobLease<T>(
  db: Pool,
  jobKey: string,
  ttlSeconds: number,
  work: () => Promise<T>,
): Promise<{ taken: true } | { taken: false; result: T }> {
  const holder = randomUUID();
  const { rowCount } = await db.query(
    `INSERT INTO job_leases (job_key, holder, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
     ON CONFLICT (job_key) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
      WHERE job_leases.expires_at < now()`,
    [jobKey, holder, ttlSeconds],
  );
  if (rowCount === 0) return { taken: true };
  try {
    return { taken: false, result: await work() };
  } finally {
    await db.query('DELETE FROM job_leases WHERE job_key = $1 AND holder = $2', [jobKey, holder]);
  }
}
