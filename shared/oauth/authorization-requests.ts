import type { Pool } from 'pg';
import type { Right } from '../accounts/rights';
import { withTransaction } from '../store/transaction';
import { findClientApp, type ClientApp } from './apps';
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens';
import { OAuthError } from './protocol-errors';
import { parseScope } from './scopes';
import { protocolParameters } from './protocol-parameters';

export const CODE_SECONDS = 10 * 60;

/** A checked `GET /oauth/authorize` request. */
export interface AuthorizationRequest {
  readonly app: ClientApp;
  readonly redirectUri: string;
  readonly redirectUriWasSent: boolean;
  readonly state: string | undefined;
  readonly scopes: readonly Right[];
  /** Asked for by seed 004's `UseRestApi`: every right the app holds, announced by that name. */
  readonly seedScope: boolean;
  readonly codeChallenge: string | undefined;
}

/**
 * The client or its callback cannot be trusted, so the error is shown to the person in the
 * browser instead of being sent to a URL (RFC 6749 §4.1.2.1).
 */
export class UntrustedAuthorizationRequest extends Error {}

/** The callback is known good: the error goes back to the app there, with its `state`. */
export class AuthorizationRefused extends Error {
  constructor(
    readonly redirectUri: string,
    readonly state: string | undefined,
    readonly oauthError: OAuthError,
  ) {
    super(oauthError.description);
  }
}

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Checks an authorization request as sent (its raw query string). A parameter given twice is
 * refused (RFC 6749 §3.1): on the error page when it is `client_id` or `redirect_uri` (which
 * of the two would be trusted?), otherwise back at the callback with `invalid_request`.
 */
export async function checkAuthorizationRequest(db: Pool, rawQuery: string): Promise<AuthorizationRequest> {
  // Text the store cannot keep was refused before this, by the route's query schema.
  const { parameters: query, repeated } = protocolParameters(rawQuery);
  const untrustworthy = repeated.filter((name) => name === 'client_id' || name === 'redirect_uri');
  if (untrustworthy.length > 0) throw new UntrustedAuthorizationRequest(`The link gives ${untrustworthy.join(' and ')} more than once.`);
  if (!query.client_id) throw new UntrustedAuthorizationRequest('The link is missing its client_id.');
  const app = await findClientApp(db, query.client_id, { withLogo: true });
  if (!app) throw new UntrustedAuthorizationRequest('No app is registered with this client_id.');

  let redirectUri: string;
  if (query.redirect_uri !== undefined) {
    // Exact string comparison: no prefix, no normalisation (RFC 9700 §4.1.3).
    if (!app.redirectUris.includes(query.redirect_uri))
      throw new UntrustedAuthorizationRequest('The redirect_uri is not one of the callback URLs registered for this app.');
    redirectUri = query.redirect_uri;
  } else if (app.redirectUris.length === 1) {
    redirectUri = app.redirectUris[0]!;
  } else {
    throw new UntrustedAuthorizationRequest(
      app.redirectUris.length === 0
        ? 'This app has no callback URL registered yet.'
        : 'This app has several callback URLs; the link must name one in redirect_uri.',
    );
  }

  const state = query.state;
  const refuse = (error: OAuthError['error'], description: string) =>
    new AuthorizationRefused(redirectUri, state, new OAuthError(error, description));
  if (repeated.length > 0) throw refuse('invalid_request', `${repeated.join(', ')} ${repeated.length === 1 ? 'is' : 'are'} given more than once`);
  if (!query.response_type) throw refuse('invalid_request', 'response_type is required');
  if (query.response_type !== 'code') throw refuse('unsupported_response_type', 'only response_type=code is supported');

  const parsed = query.scope === undefined ? { known: [...app.scopes], unknown: [], seedScope: false } : parseScope(query.scope);
  const requested = parsed.seedScope ? { ...parsed, known: [...app.scopes] } : parsed;
  if (requested.unknown.length > 0) throw refuse('invalid_scope', `unknown scope: ${requested.unknown.join(' ')}`);
  const beyond = requested.known.filter((scope) => !app.scopes.includes(scope));
  if (beyond.length > 0) throw refuse('invalid_scope', `the app is not registered for: ${beyond.join(' ')}`);
  if (requested.known.length === 0) throw refuse('invalid_scope', 'no scope requested');

  const codeChallenge = query.code_challenge;
  if (codeChallenge !== undefined) {
    // "plain" (and the RFC 7636 default when the method is left out) would let a stolen code be redeemed.
    if (query.code_challenge_method !== 'S256') throw refuse('invalid_request', 'code_challenge_method must be S256');
    if (!CODE_CHALLENGE.test(codeChallenge)) throw refuse('invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier');
  } else if (query.code_challenge_method !== undefined) {
    throw refuse('invalid_request', 'code_challenge_method without code_challenge');
  } else if (app.secretHash === null) {
    throw refuse('invalid_request', 'this app has no secret, so PKCE (code_challenge with S256) is required');
  }

  return {
    app,
    redirectUri,
    redirectUriWasSent: query.redirect_uri !== undefined,
    state,
    scopes: requested.known,
    seedScope: requested.seedScope,
    codeChallenge,
  };
}

/** The person approved: records the grant and a single-use code bound to client, callback and challenge. */
export async function issueAuthorizationCode(
  db: Pool,
  request: AuthorizationRequest,
  user: { id: number; accountId: number },
  now: Date,
): Promise<string> {
  const code = newOpaqueToken('sat_code');
  await withTransaction(db, async (client) => {
    const { rows } = await client.query<{ id: number }>(
      'INSERT INTO oauth_grants (app_id, account_id, user_id, scopes, seed_scope, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
      [request.app.id, user.accountId, user.id, request.scopes, request.seedScope, now],
    );
    await client.query(
      `INSERT INTO oauth_codes (code_hash, grant_id, redirect_uri, redirect_uri_was_sent, code_challenge, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6::timestamptz + make_interval(secs => $7))`,
      [hashOpaqueToken(code), rows[0]!.id, request.redirectUri, request.redirectUriWasSent, request.codeChallenge ?? null, now, CODE_SECONDS],
    );
    // A day past its end a code is only noise: each new one sweeps a few away.
    await client.query(
      `DELETE FROM oauth_codes WHERE code_hash IN (
         SELECT code_hash FROM oauth_codes WHERE expires_at < $1::timestamptz - interval '1 day' LIMIT 100)`,
      [now],
    );
  });
  return code;
}

/** The callback URL with the answer's parameters added (RFC 9207 `iss` included). */
export function callbackWith(redirectUri: string, parameters: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) url.searchParams.append(name, value);
  return url.toString();
}
