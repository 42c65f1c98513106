import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { Right } from './rights';

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function generateApiKey(): string {
  return `sk_${randomBytes(24).toString('base64url')}`;
}

export interface IssuedApiKey {
  readonly id: number;
  readonly key: string;
}

/** Stores a key (given or generated) for an account; only its hash is kept. */
export async function issueApiKey(
  db: Pool,
  accountId: number,
  options: { name: string; rights?: Right; key?: string },
): Promise<IssuedApiKey> {
  const key = options.key ?? generateApiKey();
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO api_keys (account_id, name, key_hash, key_prefix, rights) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key_hash) DO UPDATE SET revoked_at = NULL RETURNING id`,
    [accountId, options.name, hashApiKey(key), key.slice(0, 6), options.rights ?? 'fullApi'],
  );
  return { id: rows[0]!.id, key };
}

export async function createAccount(db: Pool, name: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>('INSERT INTO accounts (name) VALUES ($1) RETURNING id', [name]);
  return rows[0]!.id;
}
