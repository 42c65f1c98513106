import type { Reply } from '../reply';

/** RFC 6749 §5.2 / §4.1.2.1 error codes. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'unsupported_token_type';

/**
 * The OAuth endpoints answer in the RFC's own shape (`{"error", "error_description"}`), which
 * OAuth client libraries parse; the rest of the API keeps the platform's error model.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    /** invalid_client after HTTP Basic answers 401 with a challenge (RFC 6749 §5.2). */
    readonly usedBasic = false,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

export function oauthErrorReply(error: OAuthError): Reply {
  const unauthorized = error.error === 'invalid_client';
  return {
    status: unauthorized ? 401 : 400,
    body: { error: error.error, error_description: error.description },
    headers: {
      pragma: 'no-cache',
      ...(unauthorized ? { 'www-authenticate': 'Basic realm="satellite"' } : {}),
    },
  };
}
