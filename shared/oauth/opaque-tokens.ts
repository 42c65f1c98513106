import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Codes, tokens and client secrets are random strings with a recognisable prefix (so secret
 * scanners can spot a leaked one); only their SHA-256 is stored. 32 random bytes make a
 * slow hash pointless: nobody can guess one, so nobody needs to be slowed down.
 */
export function newOpaqueToken(prefix: 'sat_at' | 'sat_rt' | 'sat_code' | 'sat_cs' | 'sat_session'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashOpaqueToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function newClientId(): string {
  return randomBytes(16).toString('hex');
}
