import * as z from 'zod';
import { idPath } from '../../../shared/http/paging';
import { created, noContent, ok, route, type Reply, type Route } from '../../../shared/http/route';
import {
  appChanges,
  deleteApp,
  getApp,
  listApps,
  newAppInput,
  regenerateSecret,
  registerApp,
  setAppLogo,
  updateApp,
} from '../../../shared/oauth/apps';
import { showAuthorizePage, submitAuthorizeForm } from '../../../shared/oauth/authorize-page';
import { disconnectApp, listConnectedApps } from '../../../shared/oauth/connected-apps';
import { OAuthError, oauthErrorReply } from '../../../shared/oauth/protocol-errors';
import { authorizationServerMetadata, OAUTH_PATHS, SEED_PATH_ALIASES } from '../../../shared/oauth/server-metadata';
import {
  exchangeForTokens,
  formParameters,
  requestParameters,
  revokeToken,
  urlParameters,
  type ClientRequest,
} from '../../../shared/oauth/token-endpoint';
import { rights } from '../../../shared/accounts/rights';
import { json, nothing, nullableTimestamp, numericId, timestamp } from '../../../shared/http/answers';

const fields = z.record(z.string(), z.string());

/** A token or revocation request as sent: its parameters (URL and form body) and its Authorization header. */
function clientRequest(rawQuery: string, headers: Readonly<Record<string, string>>, rawBody: Buffer): ClientRequest {
  return { form: requestParameters(urlParameters(rawQuery), formParameters(headers['content-type'], rawBody)), authorization: headers.authorization };
}

/** The token and revocation endpoints answer errors in RFC 6749's shape, which OAuth clients parse. */
async function inOAuthErrorShape(work: () => Promise<Reply>): Promise<Reply> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof OAuthError) return oauthErrorReply(error);
    throw error;
  }
}

const serverMetadata = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  revocation_endpoint: z.string(),
  scopes_supported: z.array(z.enum(rights)),
  grant_types_supported: z.array(z.string()),
  code_challenge_methods_supported: z.array(z.string()),
});
const authorizeQuery = z.object({
  response_type: z.literal('code'),
  client_id: z.string(),
  redirect_uri: z.string().optional().meta({ description: "One of the app's registered callback URLs; optional when it has only one." }),
  scope: z
    .string()
    .optional()
    .meta({ description: 'Space-separated rights; by default all the app registered.', examples: ['eventsAndContacts'] }),
  state: z.string().optional(),
  code_challenge: z.string().optional().meta({ description: 'PKCE (S256); required of public clients.' }),
  code_challenge_method: z.literal('S256').optional(),
});
const htmlPage = (description: string) => ({ description, contentType: 'text/html' });
const authorizePageAnswers = {
  200: htmlPage('The login form, or the consent form once logged in.'),
  302: {
    description: 'Back to the app: `redirect_uri` with `code`, `state` and `iss`, or with `error`.',
    headers: { Location: { description: "The app's callback.", schema: z.string() } },
  },
  400: htmlPage('The request cannot be trusted (unknown client, unregistered redirect_uri): shown, never redirected.'),
  401: htmlPage('Wrong email or password.'),
  403: htmlPage('The form expired or came from another page.'),
  429: htmlPage('Too many failed logins.'),
};
const tokenRequest = z.object({
  grant_type: z.enum(['authorization_code', 'refresh_token']),
  code: z.string().optional(),
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
  refresh_token: z.string().optional(),
  scope: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});
const revokeRequest = z.object({
  token: z.string(),
  token_type_hint: z.enum(['access_token', 'refresh_token']).optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});
const tokenAnswer = z.object({
  access_token: z.string(),
  token_type: z.literal('bearer'),
  refresh_token: z.string(),
  scope: z.string(),
  expires_in: z
    .number()
    .int()
    .meta({ examples: [172800] }),
});
const oauthErrorAnswer = z.object({ error: z.string(), error_description: z.string().optional() });
const appView = z.object({
  id: numericId,
  clientId: z.string(),
  name: z.string(),
  clientType: z.enum(['confidential', 'public']),
  redirectUris: z.array(z.string()),
  scopes: z.array(z.enum(rights)),
  hasLogo: z.boolean(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
const connectedAppView = z.object({
  appId: numericId,
  clientId: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(rights)),
  connectedAt: timestamp,
  lastUsedAt: nullableTimestamp,
});

const protocolRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/.well-known/oauth-authorization-server',
    access: 'public',
    docs: {
      summary: 'Authorization server metadata (RFC 8414)',
      responses: { 200: json('Where the endpoints are and what they support.', serverMetadata) },
    },
    handle: async ({ platform }) => ok(authorizationServerMetadata(platform.config), { 'cache-control': 'public, max-age=3600' }),
  }),
  ...[OAUTH_PATHS.authorize, ...SEED_PATH_ALIASES.authorize].flatMap((path) => [
    route({
      method: 'GET',
      path,
      access: 'public',
      docs: {
        summary: 'Authorization page (login and consent)',
        description:
          'Where a partner app sends the person: they log in to their account and approve the scopes; the browser then returns to `redirect_uri` with `code` and `state` (and `iss`, RFC 9207).',
        query: authorizeQuery,
        responses: authorizePageAnswers,
      },
      query: fields,
      handle: ({ platform, rawQuery, cookies, sourceIp }) => showAuthorizePage(platform, { rawQuery, cookies, sourceIp }),
    }),
    route({
      method: 'POST',
      path,
      access: 'public',
      docs: {
        summary: 'Login and consent form submission',
        description: "The page's own form (CSRF-protected); not for API clients.",
        query: authorizeQuery,
        responses: { ...authorizePageAnswers, 303: { description: 'Logged in: back to the consent page.' } },
      },
      query: fields,
      body: fields,
      bodyFormat: 'form',
      handle: ({ platform, rawQuery, body, cookies, sourceIp }) => submitAuthorizeForm(platform, { rawQuery, form: body, cookies, sourceIp }),
    }),
  ]),
  ...[OAUTH_PATHS.token, ...SEED_PATH_ALIASES.token].map((path) =>
    route({
      method: 'POST',
      path,
      access: 'public',
      docs: {
        summary: 'Token endpoint (RFC 6749)',
        description:
          'Exchanges an authorization code (grant_type=authorization_code) or a refresh token (grant_type=refresh_token) for a new token pair. The client authenticates with HTTP Basic (client id and secret) or in the form; a public client sends its PKCE verifier instead.',
        rawBody: { contentTypes: ['application/x-www-form-urlencoded'], schema: tokenRequest, description: 'The grant, as a form.' },
        responses: {
          200: { ...json('A new access and refresh token.', tokenAnswer), headers: { Pragma: { description: 'no-cache', schema: z.string() } } },
          400: json(
            "Refused, in RFC 6749's shape (`invalid_request`, `invalid_grant`, `unsupported_grant_type`, `invalid_scope`).",
            oauthErrorAnswer,
          ),
          401: json('The client did not authenticate (`invalid_client`).', oauthErrorAnswer),
        },
      },
      query: fields,
      // Read here rather than by the API's body parser, so a wrong body is refused in RFC 6749's shape.
      bodyFormat: 'raw',
      handle: ({ platform, rawQuery, rawBody, headers }) =>
        inOAuthErrorShape(async () => ok(await exchangeForTokens(platform, clientRequest(rawQuery, headers, rawBody)), { pragma: 'no-cache' })),
    }),
  ),
  route({
    method: 'POST',
    path: OAUTH_PATHS.revoke,
    access: 'public',
    docs: {
      summary: 'Revoke a token (RFC 7009)',
      rawBody: { contentTypes: ['application/x-www-form-urlencoded'], schema: revokeRequest, description: 'The token, as a form.' },
      responses: {
        200: { description: 'Revoked, or was not valid: the answer is the same (RFC 7009).' },
        400: json("Refused, in RFC 6749's shape.", oauthErrorAnswer),
        401: json('The client did not authenticate (`invalid_client`).', oauthErrorAnswer),
      },
    },
    query: fields,
    bodyFormat: 'raw',
    handle: ({ platform, rawQuery, rawBody, headers }) =>
      inOAuthErrorShape(async () => {
        await revokeToken(platform, clientRequest(rawQuery, headers, rawBody));
        return { status: 200 };
      }),
  }),
];

/** Apps registered by the partner's own account. */
const appRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/oauth/apps',
    access: 'credentials',
    docs: {
      summary: 'Register an OAuth app',
      description: 'A confidential app gets its client secret in this answer only.',
      requestExample: { name: 'Acme CRM', redirectUris: ['https://crm.example.com/callback'], scopes: ['eventsAndContacts'] },
      responses: { 201: json('The app, with its client id (and secret).', appView.extend({ clientSecret: z.string().optional() })) },
    },
    body: newAppInput,
    handle: async ({ platform, principal, body }) => created(await registerApp(platform, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/oauth/apps',
    access: 'credentials',
    docs: {
      summary: "List the account's OAuth apps",
      responses: { 200: json('The apps.', z.array(appView)) },
    },
    handle: async ({ platform, principal }) => ok(await listApps(platform.db, principal.accountId)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/oauth/apps/{id}',
    access: 'credentials',
    docs: {
      summary: 'Get an OAuth app',
      responses: { 200: json('The app.', appView) },
      errors: { 404: ['APP_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ platform, principal, params }) => ok(await getApp(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'PATCH',
    path: '/api/v1/oauth/apps/{id}',
    access: 'credentials',
    docs: {
      summary: 'Change an OAuth app',
      description: 'Narrowing its scopes narrows the tokens it already holds.',
      responses: { 200: json('The app.', appView) },
      errors: { 404: ['APP_NOT_FOUND'] },
    },
    params: idPath,
    body: appChanges,
    handle: async ({ platform, principal, params, body }) => ok(await updateApp(platform, principal.accountId, params.id, body)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/oauth/apps/{id}',
    access: 'credentials',
    docs: {
      summary: 'Delete an OAuth app',
      description: 'Every token it holds stops working.',
      responses: { 204: nothing('Deleted.') },
      errors: { 404: ['APP_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ platform, principal, params }) => {
      await deleteApp(platform.db, principal.accountId, params.id);
      return noContent();
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/oauth/apps/{id}/secret',
    access: 'credentials',
    docs: {
      summary: 'New client secret',
      responses: { 200: json('The new secret, shown this once.', z.object({ clientId: z.string(), clientSecret: z.string() })) },
      errors: { 404: ['APP_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ platform, principal, params }) => ok(await regenerateSecret(platform, principal.accountId, params.id)),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/oauth/apps/{id}/logo',
    access: 'credentials',
    docs: {
      summary: "Set an app's logo",
      rawBody: { contentTypes: ['image/png', 'image/jpeg', 'image/gif'], description: 'The image, at most 1 MB.' },
      responses: { 204: nothing('Saved; the consent page shows it.') },
      errors: { 400: ['LOGO_REQUIRED', 'LOGO_TYPE_UNSUPPORTED'], 404: ['APP_NOT_FOUND'], 413: ['LOGO_TOO_LARGE'] },
    },
    params: idPath,
    bodyFormat: 'raw',
    handle: async ({ platform, principal, params, rawBody }) => {
      await setAppLogo(platform, principal.accountId, params.id, rawBody);
      return noContent();
    },
  }),
];

/** Apps this account authorised. */
const connectedAppRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/oauth/connected-apps',
    access: 'credentials',
    docs: {
      summary: 'Apps connected to this account',
      responses: { 200: json('The apps this account authorised.', z.array(connectedAppView)) },
    },
    handle: async ({ platform, principal }) => ok(await listConnectedApps(platform, principal.accountId)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/oauth/connected-apps/{id}',
    access: 'credentials',
    docs: {
      summary: 'Disconnect an app',
      description: 'Every token the app holds for this account stops working at once.',
      responses: { 204: nothing('Disconnected.') },
      errors: { 404: ['CONNECTED_APP_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ platform, principal, params }) => {
      await disconnectApp(platform, principal.accountId, params.id);
      return noContent();
    },
  }),
];

export const oauthRoutes: readonly Route[] = [...protocolRoutes, ...appRoutes, ...connectedAppRoutes];
