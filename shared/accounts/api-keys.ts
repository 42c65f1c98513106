import { hash, randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { NotFound } from '../errors';
import type { Right } from './rights';
import { verifiedKeys } from './verified-keys';

/** What `api_keys.key_hash` stores: SHA-256 of the key (one-shot `crypto.hash`, no Hash object per request). */
export function hashApiKey(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

/** `hashApiKey` as base64, the verified-keys cache's key. */
export function apiKeyHashBase64(key: string): string {
  return hash('sha256', key, 'base64');
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
  db: Pool | PoolClient,
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

export async function createAccount(db: Pool | PoolClient, name: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>('INSERT INTO accounts (name) VALUES ($1) RETURNING id', [name]);
  return rows[0]!.id;
}

export class ApiKeyNotFound extends NotFound {
  constructor() {
    super('API key', 'API_KEY_NOT_FOUND');
  }
}

export interface ApiKeySummary {
  readonly id: number;
  readonly name: string;
  /** The first characters of the key, to tell keys apart; the key itself is never stored. */
  readonly prefix: string;
  readonly rights: Right;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export async function listApiKeys(db: Pool, accountId: number): Promise<ApiKeySummary[]> {
  const { rows } = await db.query<{ id: number; name: string; key_prefix: string; rights: Right; created_at: Date; revoked_at: Date | null }>(
    'SELECT id, name, key_prefix, rights, created_at, revoked_at FROM api_keys WHERE account_id = $1 ORDER BY id',
    [accountId],
  );
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    prefix: row.key_prefix,
    rights: row.rights,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
  }));
}

/** Revokes a key of the account at once; revoking twice is not an error. */
export async function revokeApiKey(db: Pool, accountId: number, keyId: number): Promise<void> {
  const { rowCount } = await db.query('UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND account_id = $2', [
    keyId,
    accountId,
  ]);
  if (rowCount === 0) throw new ApiKeyNotFound();
  verifiedKeys.forgetAll();
}
