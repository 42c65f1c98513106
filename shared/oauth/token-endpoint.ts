import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Right } from '../accounts/rights';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';
import { issueTokenPair, type TokenResponse } from './access-tokens';
import { findClientApp, type ClientApp } from './apps';
import { hashOpaqueToken, sameHash } from './opaque-tokens';
import { OAuthError } from './protocol-errors';
import { protocolParameters } from './protocol-parameters';
import { parseScope } from './scopes';

/** A token endpoint request: the form fields and the Authorization header, as sent. */
export interface ClientRequest {
  readonly form: Readonly<Record<string, string>>;
  readonly authorization: string | undefined;
}

/** Parameters of a token or revocation request, refused in RFC 6749's shape when one repeats or holds what the store cannot keep. */
function checkedParameters(encoded: string): Record<string, string> {
  const { parameters, repeated, unstorable } = protocolParameters(encoded);
  if (repeated.length > 0)
    throw new OAuthError('invalid_request', `${repeated.join(', ')} ${repeated.length === 1 ? 'is' : 'are'} given more than once`);
  if (unstorable !== undefined) throw new OAuthError('invalid_request', `${unstorable} holds a NUL character or a broken UTF-16 surrogate`);
  return parameters;
}

/** The URL parameters of a token or revocation request (seed 004 sends them there). */
export function urlParameters(rawQuery: string): Record<string, string> {
  return checkedParameters(rawQuery);
}

/**
 * The form body of a token or revocation request, refused in RFC 6749's own error shape
 * (which OAuth client libraries parse) when it is not form-encoded or repeats a parameter.
 */
export function formParameters(contentType: string | undefined, raw: Buffer): Record<string, string> {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (raw.length > 0 && type !== 'application/x-www-form-urlencoded') {
    throw new OAuthError('invalid_request', 'send the parameters as application/x-www-form-urlencoded');
  }
  return checkedParameters(raw.toString('utf8'));
}

/**
 * The parameters of a token or revocation request. Seed 004 shows them in the URL; RFC 6749
 * wants them in the form body (a URL ends up in proxies' logs). Both are taken, the body's
 * first, and a parameter given in both with two different values is refused.
 */
export function requestParameters(query: Readonly<Record<string, string>>, form: Readonly<Record<string, string>>): Record<string, string> {
  for (const [name, value] of Object.entries(query)) {
    if (name in form && form[name] !== value)
      throw new OAuthError('invalid_request', `${name} is given in the URL and in the body with different values`);
  }
  return { ...query, ...form };
}

/** RFC 6749 §2.3.1: HTTP Basic (form-encoded id and secret) or `client_id`/`client_secret` fields; public apps send only `client_id`. */
export async function authenticateClient(db: Pool, request: ClientRequest): Promise<ClientApp> {
  let clientId = request.form.client_id;
  let secret = request.form.client_secret;
  const basic = /^basic\s+(.+)$/i.exec(request.authorization ?? '');
  if (basic?.[1]) {
    if (secret !== undefined) throw new OAuthError('invalid_request', 'use one client authentication method, not two');
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
    try {
      const basicId = formDecode(colon < 0 ? decoded : decoded.slice(0, colon));
      if (clientId !== undefined && clientId !== basicId)
        throw new OAuthError('invalid_request', 'client_id differs from the one in the Authorization header');
      clientId = basicId;
      secret = colon < 0 ? '' : formDecode(decoded.slice(colon + 1));
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      throw new OAuthError('invalid_client', 'malformed client credentials', true);
    }
  }
  const usedBasic = Boolean(basic);
  if (!clientId) throw new OAuthError('invalid_client', 'client authentication is required', usedBasic);
  const app = await findClientApp(db, clientId);
  if (!app) throw new OAuthError('invalid_client', 'client authentication failed', usedBasic);
  if (app.secretHash === null) {
    if (secret) throw new OAuthError('invalid_client', 'this app is public and has no secret', usedBasic);
    return app;
  }
  if (!secret || !sameHash(hashOpaqueToken(secret), app.secretHash))
    throw new OAuthError('invalid_client', 'client authentication failed', usedBasic);
  return app;
}

/** `POST /oauth/token`: the authorization_code and refresh_token grants. */
export async function exchangeForTokens(platform: Platform, request: ClientRequest): Promise<TokenResponse> {
  const app = await authenticateClient(platform.db, request);
  const form = request.form;
  switch (form.grant_type) {
    case 'authorization_code':
      return redeemCode(platform, app, form);
    case 'refresh_token':
      return refresh(platform, app, form);
    case undefined:
      throw new OAuthError('invalid_request', 'grant_type is required');
    default:
      throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  }
}

type Outcome = { readonly tokens: TokenResponse } | { readonly refused: OAuthError };

/**
 * Runs a grant in one transaction. A refusal that revokes a grant (code or refresh-token
 * reuse) must commit that revocation, so refusals are returned, not thrown, until after commit.
 */
async function inTransaction(db: Pool, work: (client: PoolClient) => Promise<Outcome>): Promise<TokenResponse> {
  const outcome = await withTransaction(db, work);
  if ('refused' in outcome) throw outcome.refused;
  return outcome.tokens;
}

async function revokeGrant(client: PoolClient, grantId: number, now: Date): Promise<void> {
  await client.query('UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1', [grantId, now]);
}

const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

async function redeemCode(platform: Platform, app: ClientApp, form: Readonly<Record<string, string>>): Promise<TokenResponse> {
  if (!form.code) throw new OAuthError('invalid_request', 'code is required');
  const code = form.code;
  const now = platform.clock.now();
  return inTransaction(platform.db, async (client) => {
    const { rows } = await client.query<{
      grant_id: number;
      app_id: number;
      scopes: Right[];
      revoked_at: Date | null;
      redirect_uri: string;
      redirect_uri_was_sent: boolean;
      code_challenge: string | null;
      expires_at: Date;
      used_at: Date | null;
      seed_scope: boolean;
    }>(
      `SELECT c.grant_id, g.app_id, g.scopes, g.seed_scope, g.revoked_at, c.redirect_uri, c.redirect_uri_was_sent, c.code_challenge, c.expires_at, c.used_at
       FROM oauth_codes c JOIN oauth_grants g ON g.id = c.grant_id
       WHERE c.code_hash = $1 FOR UPDATE OF c`,
      [hashOpaqueToken(code)],
    );
    const found = rows[0];
    const refuse = (description: string): Outcome => ({ refused: new OAuthError('invalid_grant', description) });
    if (!found || found.app_id !== app.id) return refuse('the code is not valid for this client');
    if (found.used_at) {
      // RFC 6749 §4.1.2: a code used twice may have been stolen; what it issued stops working.
      await revokeGrant(client, found.grant_id, now);
      return refuse('the code was already used; the tokens it issued are revoked');
    }
    if (found.revoked_at) return refuse('the authorization was revoked');
    if (found.expires_at <= now) return refuse('the code has expired');
    const sentUri = form.redirect_uri;
    if (found.redirect_uri_was_sent ? sentUri !== found.redirect_uri : sentUri !== undefined && sentUri !== found.redirect_uri) {
      return refuse('redirect_uri does not match the authorization request');
    }
    const verifier = form.code_verifier;
    if (found.code_challenge) {
      if (!verifier || !CODE_VERIFIER.test(verifier)) return refuse('code_verifier is required');
      if (createHash('sha256').update(verifier, 'ascii').digest('base64url') !== found.code_challenge)
        return refuse('code_verifier does not match the code_challenge');
    } else if (verifier !== undefined) {
      // RFC 9700 §2.1.1: a verifier without a challenge is a PKCE downgrade attempt.
      return refuse('code_verifier sent, but the authorization request had no code_challenge');
    }
    const scopes = heldByApp(app, found.scopes);
    if (scopes.length === 0) return { refused: new OAuthError('invalid_scope', 'the app no longer holds any of the scopes granted') };
    await client.query('UPDATE oauth_codes SET used_at = $2 WHERE code_hash = $1', [hashOpaqueToken(code), now]);
    return { tokens: await issueTokenPair(client, platform.config, { id: found.grant_id, scopes, seedScope: found.seed_scope }, now) };
  });
}

/**
 * The granted scopes the app still holds: an app whose scopes were narrowed since gets tokens
 * (and a `scope` in the answer) for what it may still do, never for what it lost.
 */
function heldByApp(app: ClientApp, scopes: readonly Right[]): Right[] {
  return scopes.filter((scope) => app.scopes.includes(scope));
}

/**
 * How long after a refresh token was exchanged an authenticated confidential client may
 * present it again and get a new pair in place of the one it never received (a lost answer,
 * a timeout, a crash before storing it), instead of having its whole authorization revoked.
 */
export const REFRESH_RETRY_SECONDS = 60;

interface PresentedRefreshToken {
  readonly grant_id: number;
  readonly app_id: number;
  readonly scopes: Right[];
  readonly grant_scopes: Right[];
  readonly seed_scope: boolean;
  readonly revoked_at: Date | null;
  readonly expires_at: Date;
  readonly retired_at: Date | null;
}

async function refresh(platform: Platform, app: ClientApp, form: Readonly<Record<string, string>>): Promise<TokenResponse> {
  if (!form.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
  const tokenHash = hashOpaqueToken(form.refresh_token);
  const now = platform.clock.now();
  const requested = form.scope === undefined ? undefined : parseScope(form.scope);
  return inTransaction(platform.db, async (client) => {
    const { rows } = await client.query<PresentedRefreshToken>(
      `SELECT t.grant_id, g.app_id, t.scopes, g.scopes AS grant_scopes, g.seed_scope, g.revoked_at, t.expires_at, t.retired_at
       FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id
       WHERE t.token_hash = $1 AND t.kind = 'refresh' FOR UPDATE OF t, g`,
      [tokenHash],
    );
    const found = rows[0];
    const refuse = (description: string): Outcome => ({ refused: new OAuthError('invalid_grant', description) });
    if (!found || found.app_id !== app.id) return refuse('the refresh token is not valid for this client');
    if (found.revoked_at) return refuse('the authorization was revoked');
    if (found.retired_at && !(await replacedAsRetry(client, app, found.retired_at, tokenHash, now))) {
      // RFC 9700 §4.14.2: a retired refresh token coming back means two parties hold it.
      await revokeGrant(client, found.grant_id, now);
      return refuse('the refresh token was already used; the whole authorization is revoked');
    }
    if (found.expires_at <= now) return refuse('the refresh token has expired');
    let scopes = found.scopes;
    let seedScope = found.seed_scope && sameRights(found.scopes, found.grant_scopes);
    if (requested) {
      const beyond = [...requested.unknown, ...requested.known.filter((scope) => !found.scopes.includes(scope))];
      if (beyond.length > 0) return { refused: new OAuthError('invalid_scope', `not granted: ${beyond.join(' ')}`) };
      // UseRestApi asks for every right this token carries; rights named beside it add nothing.
      if (requested.seedScope) seedScope = found.seed_scope;
      else if (requested.known.length > 0) {
        scopes = requested.known;
        seedScope = false;
      }
    }
    scopes = heldByApp(app, scopes);
    if (scopes.length === 0) return { refused: new OAuthError('invalid_scope', 'the app no longer holds any of the scopes granted') };
    // A retry keeps the first exchange's time, so retrying cannot stretch the window.
    if (!found.retired_at) await client.query('UPDATE oauth_tokens SET retired_at = $2 WHERE token_hash = $1', [tokenHash, now]);
    return { tokens: await issueTokenPair(client, platform.config, { id: found.grant_id, scopes, seedScope }, now, tokenHash) };
  });
}

function sameRights(a: readonly Right[], b: readonly Right[]): boolean {
  return a.length === b.length && a.every((right) => b.includes(right));
}

/**
 * A retired refresh token presented again is a retry of a lost answer, not a theft, when the
 * client proved it holds the app's secret (public clients cannot), within
 * REFRESH_RETRY_SECONDS of the exchange, and while the pair that exchange issued is unused
 * (its refresh token not exchanged in turn). That pair is then deleted: the retry's pair
 * replaces it, so one live pair continues the authorization and the lost one never works.
 */
async function replacedAsRetry(client: PoolClient, app: ClientApp, retiredAt: Date, tokenHash: Buffer, now: Date): Promise<boolean> {
  if (app.secretHash === null) return false;
  if (now.getTime() - retiredAt.getTime() > REFRESH_RETRY_SECONDS * 1000) return false;
  const { rows } = await client.query<{ kind: 'access' | 'refresh'; retired_at: Date | null }>(
    'SELECT kind, retired_at FROM oauth_tokens WHERE issued_from = $1 FOR UPDATE',
    [tokenHash],
  );
  const successor = rows.find((row) => row.kind === 'refresh');
  if (!successor || successor.retired_at) return false;
  await client.query('DELETE FROM oauth_tokens WHERE issued_from = $1', [tokenHash]);
  return true;
}

/**
 * `POST /oauth/revoke` (RFC 7009). A refresh token takes its whole grant with it; an access
 * token only itself. Unknown tokens and tokens of other clients get the same 200, so the
 * endpoint tells nobody which tokens exist.
 */
export async function revokeToken(platform: Platform, request: ClientRequest): Promise<void> {
  const app = await authenticateClient(platform.db, request);
  const token = request.form.token;
  if (!token) throw new OAuthError('invalid_request', 'token is required');
  const now = platform.clock.now();
  await withTransaction(platform.db, async (client) => {
    const { rows } = await client.query<{ grant_id: number; kind: 'access' | 'refresh' }>(
      `SELECT t.grant_id, t.kind FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id
       WHERE t.token_hash = $1 AND g.app_id = $2`,
      [hashOpaqueToken(token), app.id],
    );
    const found = rows[0];
    if (!found) return;
    if (found.kind === 'refresh') await revokeGrant(client, found.grant_id, now);
    else await client.query('DELETE FROM oauth_tokens WHERE token_hash = $1', [hashOpaqueToken(token)]);
  });
}
