import type { Platform } from '../../shared/platform';

/**
 * A saved connector row and its secret, as the connectors capability stores them
 * (table `connectors`, credential behind the secrets port).
 */
export async function savePostgresConnector(
  platform: Platform,
  accountId: number,
  target: { host: string; port: number; database: string; user: string; password: string },
): Promise<number> {
  const name = `export-target-${Math.random().toString(36).slice(2, 10)}`;
  const secretRef = await platform.secrets.put(`connectors/${accountId}/${name}`, JSON.stringify({ password: target.password }));
  const { rows } = await platform.db.query<{ id: number }>(
    `INSERT INTO connectors (account_id, kind, name, settings, unique_key_column, unique_key_contact_field, secret_ref)
     VALUES ($1, 'postgres', $2, $3, 'email', 'email', $4) RETURNING id`,
    [
      accountId,
      name,
      JSON.stringify({ host: target.host, port: target.port, database: target.database, user: target.user, sslMode: 'disable', schema: 'public' }),
      secretRef,
    ],
  );
  return rows[0]!.id;
}

export async function saveBigQueryConnector(platform: Platform, accountId: number, key: Record<string, unknown>): Promise<number> {
  const name = `export-bq-${Math.random().toString(36).slice(2, 10)}`;
  const secretRef = await platform.secrets.put(`connectors/${accountId}/${name}`, JSON.stringify(key));
  const { rows } = await platform.db.query<{ id: number }>(
    `INSERT INTO connectors (account_id, kind, name, settings, unique_key_column, unique_key_contact_field, secret_ref)
     VALUES ($1, 'bigquery', $2, $3, 'email', 'email', $4) RETURNING id`,
    [accountId, name, JSON.stringify({ projectId: key.project_id, clientEmail: key.client_email }), secretRef],
  );
  return rows[0]!.id;
}

/** Polls `check` until it returns a value, a bounded number of times (queue consumers run in the background). */
export async function eventually<T>(check: () => Promise<T | undefined>, attempts = 300): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not reached');
}

/**
 * Waits until every transaction open now on the database server has ended, so the next
 * export pass's bound lies above all rows written so far. (The bound is cluster-wide:
 * other test files' open transactions hold it back, as any open transaction would.)
 */
export async function platformSettled(platform: Platform): Promise<void> {
  const { rows } = await platform.db.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
  await eventually(async () => {
    const result = await platform.db.query<{ passed: boolean }>('SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 AS passed', [
      rows[0]!.xid,
    ]);
    return result.rows[0]!.passed ? true : undefined;
  });
}
