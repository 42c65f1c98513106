import { z } from 'zod';
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
import { exchangeForTokens, formParameters, requestParameters, revokeToken, urlParameters, type ClientRequest } from '../../../shared/oauth/token-endpoint';

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

const protocolRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/.well-known/oauth-authorization-server',
    access: 'public',
    handle: async ({ platform }) => ok(authorizationServerMetadata(platform.config), { 'cache-control': 'public, max-age=3600' }),
  }),
  ...[OAUTH_PATHS.authorize, ...SEED_PATH_ALIASES.authorize].flatMap((path) => [
    route({
      method: 'GET',
      path,
      access: 'public',
      query: fields,
      handle: ({ platform, rawQuery, cookies, sourceIp }) => showAuthorizePage(platform, { rawQuery, cookies, sourceIp }),
    }),
    route({
      method: 'POST',
      path,
      access: 'public',
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
    body: newAppInput,
    handle: async ({ platform, principal, body }) => created(await registerApp(platform, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/oauth/apps',
    access: 'credentials',
    handle: async ({ platform, principal }) => ok(await listApps(platform.db, principal.accountId)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/oauth/apps/{id}',
    access: 'credentials',
    params: idPath,
    handle: async ({ platform, principal, params }) => ok(await getApp(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'PATCH',
    path: '/api/v1/oauth/apps/{id}',
    access: 'credentials',
    params: idPath,
    body: appChanges,
    handle: async ({ platform, principal, params, body }) => ok(await updateApp(platform, principal.accountId, params.id, body)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/oauth/apps/{id}',
    access: 'credentials',
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
    params: idPath,
    handle: async ({ platform, principal, params }) => ok(await regenerateSecret(platform, principal.accountId, params.id)),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/oauth/apps/{id}/logo',
    access: 'credentials',
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
    handle: async ({ platform, principal }) => ok(await listConnectedApps(platform, principal.accountId)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/oauth/connected-apps/{id}',
    access: 'credentials',
    params: idPath,
    handle: async ({ platform, principal, params }) => {
      await disconnectApp(platform, principal.accountId, params.id);
      return noContent();
    },
  }),
];

export const oauthRoutes: readonly Route[] = [...protocolRoutes, ...appRoutes, ...connectedAppRoutes];
