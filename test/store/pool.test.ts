import { Pool } from 'pg';
import { createPool, CREDENTIALS_TTL_MS, rotatingCredentials, UnnamedStatementsClient } from '../../shared/store/pool';
import { EncryptedTableSecrets } from '../../shared/adapters/local/encrypted-secrets';
import { createTestDatabase } from '../support/stack';

it('survives the server closing an idle pooled connection', async () => {
  const database = await createTestDatabase('p');
  const admin = new Pool({ connectionString: database.url, max: 1 });
  const pool = await createPool({ kind: 'url', url: database.url }, new EncryptedTableSecrets(admin, 'unused'), 2);
  try {
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    // The next query gets a fresh connection; the process is still alive to run it.
    for (let attempt = 0; attempt < 50 && pool.idleCount > 0 && pool.totalCount > 0; attempt += 1)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const next = await pool.query<{ one: number }>('SELECT 1 AS one');
    expect(next.rows[0]!.one).toBe(1);
  } finally {
    await pool.end();
    await admin.end();
    await database.drop();
  }
});

it('behind RDS Proxy, runs named statements unnamed so no connection is pinned to one session', async () => {
  const database = await createTestDatabase('q');
  const pool = new Pool({ Client: UnnamedStatementsClient, connectionString: database.url, max: 1 });
  try {
    const named = await pool.query<{ one: number }>({ name: 'would-pin', text: 'SELECT $1::int AS one', values: [1] });
    expect(named.rows[0]!.one).toBe(1);
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements');
    expect(rows[0]!.n).toBe(0);
  } finally {
    await pool.end();
    await database.drop();
  }
});

it('reads the database secret again once a rotation may have changed it', async () => {
  const database = await createTestDatabase('r');
  const admin = new Pool({ connectionString: database.url, max: 1 });
  const secrets = new EncryptedTableSecrets(admin, Buffer.alloc(32, 7).toString('base64url'));
  try {
    const id = await secrets.put('database', JSON.stringify({ username: 'satellite', password: 'before' }));
    let now = 0;
    const credentials = rotatingCredentials(secrets, id, () => now);
    expect((await credentials()).password).toBe('before');
    await secrets.put('database', JSON.stringify({ username: 'satellite', password: 'after' }));
    now = CREDENTIALS_TTL_MS - 1;
    expect((await credentials()).password).toBe('before');
    now = CREDENTIALS_TTL_MS;
    expect((await credentials()).password).toBe('after');
  } finally {
    await admin.end();
    await database.drop();
  }
});
