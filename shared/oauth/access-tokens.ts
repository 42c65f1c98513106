import type { PoolClient } from 'pg';
import type { BearerResolver } from '../accounts/authenticate';
import type { Right } from '../accounts/rights';
import type { PlatformConfig } from '../config';
import { formatScope } from './scopes';
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens';

/** The token endpoint's success answer (RFC 6749 §5.1, in seed 004's shape). */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'bearer';
  readonly refresh_token: string;
  readonly scope: string;
  readonly expires_in: number;
}

/** Stores a new access and refresh token for a grant, inside the caller's transaction. */
export async function issueTokenPair(
  client: PoolClient,
  config: PlatformConfig,
  grant: { id: number; scopes: readonly Right[]; seedScope: boolean },
  now: Date,
  /** The refresh token this pair replaces (its hash), for a retry of a lost answer. */
  issuedFrom?: Buffer,
): Promise<TokenResponse> {
  const accessToken = newOpaqueToken('sat_at');
  const refreshToken = newOpaqueToken('sat_rt');
  await client.query(
    `INSERT INTO oauth_tokens (token_hash, grant_id, kind, scopes, created_at, expires_at, issued_from) VALUES
       ($1, $3, 'access', $4, $5, $5::timestamptz + make_interval(secs => $6), $8),
       ($2, $3, 'refresh', $4, $5, $5::timestamptz + make_interval(secs => $7), $8)`,
    [
      hashOpaqueToken(accessToken),
      hashOpaqueToken(refreshToken),
      grant.id,
      grant.scopes,
      now,
      config.oauthAccessTokenSeconds,
      config.oauthRefreshTokenSeconds,
      issuedFrom ?? null,
    ],
  );
  // Each issue sweeps a few tokens a day past their end away (codes and browser sessions are
  // swept the same way), so the table holds what can still be used, not every token ever made.
  await client.query(
    `DELETE FROM oauth_tokens WHERE token_hash IN (
       SELECT token_hash FROM oauth_tokens WHERE expires_at < $1::timestamptz - interval '1 day' LIMIT 100)`,
    [now],
  );
  return {
    access_token: accessToken,
    token_type: 'bearer',
    refresh_token: refreshToken,
    scope: formatScope(grant.scopes, grant.seedScope),
    expires_in: config.oauthAccessTokenSeconds,
  };
}

/**
 * Resolves an OAuth access token to the account that granted it and its rights: the token's
 * scopes, narrowed by the app's current ones (an app whose scopes were reduced loses them at
 * once). A revoked grant, a deleted app or an expired token resolve to nothing. "Last used"
 * (shown in connected apps) is written at most once a minute per grant.
 */
export const resolveAccessToken: BearerResolver = async (db, token, now) => {
  const { rows } = await db.query<{ account_id: number; app_id: number; rights: Right[] }>(
    `WITH found AS (
       SELECT g.id AS grant_id, g.account_id, g.app_id, g.last_used_at,
              ARRAY(SELECT unnest(t.scopes) INTERSECT SELECT unnest(a.scopes)) AS rights
       FROM oauth_tokens t
       JOIN oauth_grants g ON g.id = t.grant_id
       JOIN oauth_apps a ON a.id = g.app_id
       WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > $2 AND g.revoked_at IS NULL
     ), touched AS (
       UPDATE oauth_grants SET last_used_at = $2
       FROM found
       WHERE oauth_grants.id = found.grant_id
         AND (found.last_used_at IS NULL OR found.last_used_at < $2::timestamptz - interval '1 minute')
     )
     SELECT account_id, app_id, rights FROM found`,
    [hashOpaqueToken(token), now],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { accountId: row.account_id, via: 'oauth', rights: row.rights, appId: row.app_id };
};
