import { rights } from '../accounts/rights';
import { publicBaseUrlOf, type PlatformConfig } from '../config';
import { SEED_SCOPE } from './scopes';

/** The protocol endpoints, advertised in the metadata below. */
export const OAUTH_PATHS = { authorize: '/oauth/authorize', token: '/oauth/token', revoke: '/oauth/revoke' } as const;

/**
 * Seed 004's URLs (eSputnik's `…/uaa/oauth/authorize` and `…/uaa/oauth/token`), served as
 * aliases with the same behaviour, so a partner app written against them works by changing
 * only the host. Not advertised: RFC 8414 has room for one URL per endpoint, and clients that
 * discover the server use what it advertises.
 */
export const SEED_PATH_ALIASES = { authorize: ['/uaa/oauth/authorize'], token: ['/uaa/oauth/token'] } as const;

/** The issuer identifier: the public base URL, which clients compare with `iss` (RFC 9207). */
export function issuerOf(config: PlatformConfig): string {
  return publicBaseUrlOf(config).replace(/\/+$/, '');
}

/** RFC 8414 authorization server metadata, served at `/.well-known/oauth-authorization-server`. */
export function authorizationServerMetadata(config: PlatformConfig): Record<string, unknown> {
  const issuer = issuerOf(config);
  return {
    issuer,
    authorization_endpoint: `${issuer}${OAUTH_PATHS.authorize}`,
    token_endpoint: `${issuer}${OAUTH_PATHS.token}`,
    revocation_endpoint: `${issuer}${OAUTH_PATHS.revoke}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...rights, SEED_SCOPE],
    authorization_response_iss_parameter_supported: true,
  };
}
