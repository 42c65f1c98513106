import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';

/**
 * Tracking and unsubscribe links are signed with a key of the account's own (kept in the
 * store, made on first use), so a link cannot be forged to record activities for another
 * send or to redirect anywhere but the message's own links.
 */
const keys = new Map<number, Buffer>();

export async function linkKey(db: Pool, accountId: number): Promise<Buffer> {
  const cached = keys.get(accountId);
  if (cached) return cached;
  await db.query('INSERT INTO email_link_keys (account_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING', [accountId, randomBytes(32)]);
  const { rows } = await db.query<{ key: Buffer }>('SELECT key FROM email_link_keys WHERE account_id = $1', [accountId]);
  const key = rows[0]!.key;
  keys.set(accountId, key);
  return key;
}

export type LinkPurpose = 'open' | 'click' | 'unsubscribe';

/** 128 bits of HMAC-SHA256 over what the link may do: its purpose, its send and (for a click) its target. */
export function signLink(key: Buffer, purpose: LinkPurpose, sendId: number, target = ''): string {
  return createHmac('sha256', key).update(`${purpose}\n${sendId}\n${target}`).digest().subarray(0, 16).toString('base64url');
}

export function linkSignatureValid(key: Buffer, purpose: LinkPurpose, sendId: number, signature: string, target = ''): boolean {
  const expected = Buffer.from(signLink(key, purpose, sendId, target));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `<account>.<send>.<signature>`: what a tracking path carries. */
export function linkToken(accountId: number, sendId: number, signature: string): string {
  return `${accountId}.${sendId}.${signature}`;
}

export function parseLinkToken(token: string): { accountId: number; sendId: number; signature: string } | undefined {
  const match = /^(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return undefined;
  return { accountId: Number(match[1]), sendId: Number(match[2]), signature: match[3]! };
}
