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
    [accountId, name, JSON.stringify({ host: target.host, port: target.port, database: target.database, user: target.user, sslMode: 'disable' }), secretRef],
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
