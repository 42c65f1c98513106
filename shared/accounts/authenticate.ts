import type { Pool } from 'pg';
import { Unauthorized } from '../errors';
import { apiKeyHashBase64 } from './api-keys';
import type { Right } from './rights';
import { verifiedKeys } from './verified-keys';

export interface Principal {
  readonly accountId: number;
  /** `console`: an account user signed into the web console (shared/console/sessions.ts). */
  readonly via: 'apiKey' | 'oauth' | 'console';
  readonly rights: readonly Right[];
  /** The OAuth app acting for the account, when `via` is `oauth`. */
  readonly appId?: number;
}

/** Resolves a bearer token to a principal at `now` (the platform clock); provided by the OAuth capability. */
export type BearerResolver = (db: Pool, token: string, now: Date) => Promise<Principal | undefined>;

/**
 * HTTP Basic with any user name and an API key as the password, or a bearer token.
 * Every failure answers the same 401, so a caller learns nothing about which accounts exist.
 */
export async function authenticate(db: Pool, authorization: string | undefined, resolveBearer: BearerResolver, now: Date): Promise<Principal> {
  if (!authorization) throw new Unauthorized();
  const [scheme, credentials] = splitOnce(authorization.trim(), ' ');
  if (!credentials) throw new Unauthorized();
  switch (scheme.toLowerCase()) {
    case 'basic': {
      const decoded = Buffer.from(credentials.trim(), 'base64').toString('utf8');
      const [, password] = splitOnce(decoded, ':');
      if (!password) throw new Unauthorized();
      const principal = await principalForApiKey(db, password);
      if (!principal) throw new Unauthorized();
      return principal;
    }
    case 'bearer': {
      const principal = await resolveBearer(db, credentials.trim(), now);
      // RFC 6750 §3.1: the challenge names the cause, so an OAuth client knows to refresh.
      if (!principal) throw new Unauthorized('the access token is invalid or expired', 'INVALID_TOKEN', 'Bearer error="invalid_token"');
      return principal;
    }
    default:
      throw new Unauthorized();
  }
}

async function principalForApiKey(db: Pool, key: string): Promise<Principal | undefined> {
  // Every request passes here: the digest straight to the cache's base64 key, bytes only on a miss.
  const cacheKey = apiKeyHashBase64(key);
  const known = verifiedKeys.get(cacheKey, Date.now());
  if (known) return { accountId: known.accountId, via: 'apiKey', rights: [known.rights] };
  const { rows } = await db.query<{ account_id: number; rights: Right }>(
    'SELECT account_id, rights FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
    [Buffer.from(cacheKey, 'base64')],
  );
  const row = rows[0];
  if (!row) return undefined;
  verifiedKeys.remember(cacheKey, row.account_id, row.rights, Date.now());
  return { accountId: row.account_id, via: 'apiKey', rights: [row.rights] };
}

function splitOnce(value: string, separator: string): [string, string | undefined] {
  const index = value.indexOf(separator);
  return index < 0 ? [value, undefined] : [value.slice(0, index), value.slice(index + 1)];
}
