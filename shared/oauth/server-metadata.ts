import { rights } from '../accounts/rights';
import { publicBaseUrlOf, type PlatformConfig } from '../config';

/** The issuer identifier: the public base URL, which clients compare with `iss` (RFC 9207). */
export function issuerOf(config: PlatformConfig): string {
  return publicBaseUrlOf(config).replace(/\/+$/, '');
}

/** RFC 8414 authorization server metadata, served at `/.well-known/oauth-authorization-server`. */
export function authorizationServerMetadata(config: PlatformConfig): Record<string, unknown> {
  const issuer = issuerOf(config);
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...rights],
    authorization_response_iss_parameter_supported: true,
  };
}
