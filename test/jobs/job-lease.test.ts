/**
 * Exclusive jobs (an export dataset, a broadcast) hold a lease row rather than a session-level
 * advisory lock, so a 15-minute job pins no connection through RDS Proxy; the exclusivity a
 * duplicate SQS delivery relies on must still hold, on the real PostgreSQL.
 */
import { Pool } from 'pg';
import { withJobLease } from '../../shared/jobs/job-lease';
import { createTestDatabase } from '../support/stack';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('lease');
  pool = new Pool({ connectionString: database.url, max: 4 });
  // The database is dropped WITH (FORCE) at the end: an idle connection told so is no failure.
  pool.on('error', () => undefined);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

/** Sessions of this database holding anything but an idle connection, and advisory locks held. */
async function heldDuringWork(): Promise<{ advisoryLocks: number; busySessions: number }> {
  const { rows } = await pool.query<{ advisory_locks: number; busy_sessions: number }>(
    `SELECT (SELECT count(*)::int FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()) AS advisory_locks,
            (SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle') AS busy_sessions`,
  );
  return { advisoryLocks: rows[0]!.advisory_locks, busySessions: rows[0]!.busy_sessions };
}

describe('a job lease', () => {
  it('lets one of two concurrent deliveries run the job; the other finds it taken', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const first = withJobLease(pool, 'export:1:contacts', 900, async () => {
      runs += 1;
      await gate;
      return 'done';
    });
    // The first has its lease once its work started.
    while (runs === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = await withJobLease(pool, 'export:1:contacts', 900, () => Promise.resolve('duplicate ran'));
    expect(second).toEqual({ taken: true });
    // While the job works, nothing is held in a session: no advisory lock, no connection busy.
    expect(await heldDuringWork()).toEqual({ advisoryLocks: 0, busySessions: 0 });
    release();
    expect(await first).toEqual({ taken: false, result: 'done' });
    expect(runs).toBe(1);
  });

  it('is free again once its holder finished, and also when the holder failed', async () => {
    await expect(withJobLease(pool, 'broadcast:7', 300, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withJobLease(pool, 'broadcast:7', 300, () => Promise.resolve(1))).toEqual({ taken: false, result: 1 });
  });

  it('is taken over when its holder died without releasing it and the lease expired', async () => {
    await pool.query(`INSERT INTO job_leases (job_key, holder, expires_at) VALUES ('broadcast:8', gen_random_uuid(), now() + interval '1 hour')`);
    expect(await withJobLease(pool, 'broadcast:8', 300, () => Promise.resolve('ran'))).toEqual({ taken: true });
    await pool.query(`UPDATE job_leases SET expires_at = now() - interval '1 second' WHERE job_key = 'broadcast:8'`);
    expect(await withJobLease(pool, 'broadcast:8', 300, () => Promise.resolve('ran'))).toEqual({ taken: false, result: 'ran' });
  });

  it('keeps different jobs independent', async () => {
    const results = await Promise.all(['export:2:orders', 'export:2:revenue'].map((key) => withJobLease(pool, key, 900, () => Promise.resolve(key))));
    expect(results).toEqual([
      { taken: false, result: 'export:2:orders' },
      { taken: false, result: 'export:2:revenue' },
    ]);
  });
});
