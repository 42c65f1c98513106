import * as oauth from 'oauth4webapi';
import { Browser } from './browser';
import {
  authorizeInBrowser,
  bearer,
  CALLBACK,
  connect,
  insecure,
  registerApp,
  startOAuthWorld,
  type OAuthWorld,
  type RegisteredApp,
} from './oauth-stack';

/** The negative cases of RFC 9700 (OAuth 2.0 Security Best Current Practice) the issue lists. */
let world: OAuthWorld;

beforeAll(async () => {
  world = await startOAuthWorld();
});
afterAll(() => world.stack.stop());

const version = (token: string) => world.stack.request(bearer(token), 'GET', '/api/v1/version');

/** Posts to the token endpoint as the client library would, and returns the RFC 6749 answer. */
async function tokenRequest(app: RegisteredApp, fields: Record<string, string>, auth = app.auth): Promise<{ status: number; body: any }> {
  const headers = new Headers();
  const body = new URLSearchParams(fields);
  await auth(world.as, app.client, body, headers);
  headers.set('content-type', 'application/x-www-form-urlencoded');
  const response = await fetch(world.as.token_endpoint!, { method: 'POST', headers, body });
  return { status: response.status, body: await response.json() };
}

async function codeFor(app: RegisteredApp, options: Parameters<typeof authorizeInBrowser>[2] = {}) {
  const callback = await authorizeInBrowser(world, app, options);
  const code = oauth.validateAuthResponse(world.as, app.client, callback.url, callback.state).get('code')!;
  return { code, verifier: callback.verifier };
}

async function redeem(app: RegisteredApp, code: string, verifier: string | undefined, redirectUri = CALLBACK) {
  return tokenRequest(app, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    ...(verifier ? { code_verifier: verifier } : {}),
  });
}

const refresh = (app: RegisteredApp, refreshToken: string, extra: Record<string, string> = {}) =>
  tokenRequest(app, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });

it('code reuse: the second redemption fails and revokes the tokens the first one got', async () => {
  const app = await registerApp(world);
  const { code, verifier } = await codeFor(app);
  const first = await redeem(app, code, verifier);
  expect(first.status).toBe(200);
  expect((await version(first.body.access_token)).status).toBe(200);

  const second = await redeem(app, code, verifier);
  expect(second).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringContaining('already used') } });
  expect((await version(first.body.access_token)).status).toBe(401);
  expect((await refresh(app, first.body.refresh_token)).body.error).toBe('invalid_grant');
});

it('expired code: a code lives 10 minutes', async () => {
  const app = await registerApp(world);
  const fresh = await codeFor(app);
  world.clock.advanceSeconds(9 * 60);
  expect((await redeem(app, fresh.code, fresh.verifier)).status).toBe(200);

  const stale = await codeFor(app);
  world.clock.advanceSeconds(10 * 60 + 1);
  expect((await redeem(app, stale.code, stale.verifier)).body).toEqual({ error: 'invalid_grant', error_description: 'the code has expired' });
});

it('redirect URI mismatch: an unregistered callback gets an error page, never a redirect; a different one at the token endpoint fails', async () => {
  const app = await registerApp(world, { redirectUris: [CALLBACK, 'https://partner.example/oauth/callback'] });
  for (const evil of ['https://evil.example/callback', `${CALLBACK}/../steal`, `${CALLBACK}?x=1`, 'http://127.0.0.1:9/CALLBACK']) {
    const page = await new Browser(world.issuer.origin).get(
      `/oauth/authorize?response_type=code&client_id=${app.client.client_id}&redirect_uri=${encodeURIComponent(evil)}&state=s`,
    );
    expect(page.status).toBe(400);
    expect(page.location).toBeUndefined();
    expect(page.html).toContain('not one of the callback URLs');
  }

  const { code, verifier } = await codeFor(app);
  expect((await redeem(app, code, verifier, 'https://partner.example/oauth/callback')).body.error).toBe('invalid_grant');
  expect((await redeem(app, code, verifier)).status).toBe(200);
});

it('PKCE downgrade: a verifier without a challenge is refused, and a challenge needs its verifier', async () => {
  const app = await registerApp(world);
  const withoutChallenge = await codeFor(app, { pkce: false });
  const downgrade = await redeem(app, withoutChallenge.code, oauth.generateRandomCodeVerifier());
  expect(downgrade.body).toEqual({ error: 'invalid_grant', error_description: expect.stringContaining('no code_challenge') });

  const withChallenge = await codeFor(app);
  expect((await redeem(app, withChallenge.code, undefined)).body.error).toBe('invalid_grant');
  expect((await redeem(app, withChallenge.code, oauth.generateRandomCodeVerifier())).body.error).toBe('invalid_grant');
  expect((await redeem(app, withChallenge.code, withChallenge.verifier)).status).toBe(200);
});

it('wrong client secret: invalid_client with 401, and the code still works for the real client', async () => {
  const app = await registerApp(world);
  const { code, verifier } = await codeFor(app);
  const wrong = await tokenRequest(
    app,
    { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier! },
    oauth.ClientSecretBasic('sat_cs_wrong'),
  );
  expect(wrong).toEqual({ status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' } });
  expect((await redeem(app, code, verifier)).status).toBe(200);
});

it('a code is bound to its client: another app cannot redeem it', async () => {
  const app = await registerApp(world);
  const thief = await registerApp(world, { name: 'Thief' });
  const { code, verifier } = await codeFor(app);
  expect((await redeem(thief, code, verifier)).body.error).toBe('invalid_grant');
  expect((await redeem(app, code, verifier)).status).toBe(200);
});

it('refresh reuse: a retired refresh token revokes the whole grant (past the retry window; see refresh-retry.test.ts)', async () => {
  const app = await registerApp(world);
  const tokens = await connect(world, app);
  const rotated = await refresh(app, tokens.refresh_token!);
  expect(rotated.status).toBe(200);

  world.clock.advanceSeconds(61);
  const replay = await refresh(app, tokens.refresh_token!);
  expect(replay.body).toEqual({ error: 'invalid_grant', error_description: expect.stringContaining('already used') });
  expect((await refresh(app, rotated.body.refresh_token)).body.error).toBe('invalid_grant');
  expect((await version(rotated.body.access_token)).status).toBe(401);
  expect((await version(tokens.access_token)).status).toBe(401);
});

it('token after app deletion: every token and code of the app stops at once', async () => {
  const app = await registerApp(world);
  const tokens = await connect(world, app);
  const pending = await codeFor(app);
  expect((await world.stack.request(world.partner, 'DELETE', `/api/v1/oauth/apps/${app.id}`)).status).toBe(204);

  expect((await version(tokens.access_token)).status).toBe(401);
  expect((await refresh(app, tokens.refresh_token!)).body.error).toBe('invalid_client');
  expect((await redeem(app, pending.code, pending.verifier)).body.error).toBe('invalid_client');
});

it('token after disconnect: the account disconnects the app and its tokens stop at once', async () => {
  const app = await registerApp(world);
  const tokens = await connect(world, app);
  expect((await world.stack.request(world.customer, 'DELETE', `/api/v1/oauth/connected-apps/${app.id}`)).status).toBe(204);
  expect((await version(tokens.access_token)).status).toBe(401);
  expect((await refresh(app, tokens.refresh_token!)).body.error).toBe('invalid_grant');
});

it('scope escalation: not at authorize, not at refresh, and a narrow token is refused wider methods', async () => {
  const app = await registerApp(world, { scopes: ['events'] });
  const page = await new Browser(world.issuer.origin).get(
    `/oauth/authorize?response_type=code&client_id=${app.client.client_id}&scope=fullApi&state=s`,
  );
  expect(new URL(page.location!).searchParams.get('error')).toBe('invalid_scope');

  const tokens = await connect(world, app);
  expect(tokens.scope).toBe('events');
  expect((await refresh(app, tokens.refresh_token!, { scope: 'events fullApi' })).body.error).toBe('invalid_scope');

  const settings = await world.stack.request(bearer(tokens.access_token), 'GET', '/api/v1/connectors');
  expect(settings.status).toBe(403);
  expect(settings.body.error).toEqual({ code: 'INSUFFICIENT_SCOPE', message: expect.stringContaining('fullApi') });
  expect(settings.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="fullApi"');

  // The partner narrows its app: tokens already out lose what the app no longer has.
  const wide = await registerApp(world, { scopes: ['fullApi', 'events'] });
  const wideTokens = await connect(world, wide);
  expect((await world.stack.request(bearer(wideTokens.access_token), 'GET', '/api/v1/connectors')).status).toBe(200);
  await world.stack.request(world.partner, 'PATCH', `/api/v1/oauth/apps/${wide.id}`, { scopes: ['events'] });
  expect((await world.stack.request(bearer(wideTokens.access_token), 'GET', '/api/v1/connectors')).status).toBe(403);
  expect((await version(wideTokens.access_token)).status).toBe(200);
  // Tokens issued from now on, and the scope they are announced with, hold only what the app still has.
  const narrowed = await refresh(wide, wideTokens.refresh_token!);
  expect(narrowed.status).toBe(200);
  expect(narrowed.body.scope).toBe('events');
});

it('a token used on another account: it acts only for the account that granted it', async () => {
  const app = await registerApp(world);
  const tokens = await connect(world, app);
  const as = bearer(tokens.access_token);

  // The customer authorised: the other account's contacts are out of its reach.
  const theirs = await world.stack.request(world.other, 'POST', '/api/v1/contact', { externalCustomerId: 'other-1', firstName: 'Other' });
  expect((await world.stack.request(as, 'GET', `/api/v1/contact/${theirs.body.id}`)).status).toBe(404);
  expect((await world.stack.request(as, 'GET', '/api/v1/contacts?externalCustomerId=other-1')).body).toEqual([]);
  expect((await world.stack.request(as, 'PUT', `/api/v1/contact/${theirs.body.id}`, { firstName: 'Taken' })).status).toBe(404);

  // Nor can it disconnect the app from either account: partner apps never manage connections.
  const otherTokens = await connect(world, app, { user: world.other });
  expect((await world.stack.request(as, 'DELETE', `/api/v1/oauth/connected-apps/${app.id}`)).status).toBe(403);
  expect((await version(otherTokens.access_token)).status).toBe(200);
  expect((await version(tokens.access_token)).status).toBe(200);
});

describe('token lifetimes (seed 004: 172,800 s access, 2,592,000 s refresh)', () => {
  it('sweeps codes and tokens away a day after they ended', async () => {
    const app = await registerApp(world);
    await connect(world, app);
    const grant = (await world.stack.platform.db.query('SELECT max(id) AS id FROM oauth_grants WHERE app_id = $1', [app.id])).rows[0].id;
    const left = async () =>
      (
        await world.stack.platform.db.query(
          'SELECT (SELECT count(*)::int FROM oauth_tokens WHERE grant_id = $1) AS tokens, (SELECT count(*)::int FROM oauth_codes WHERE grant_id = $1) AS codes',
          [grant],
        )
      ).rows[0];
    expect(await left()).toEqual({ tokens: 2, codes: 1 });
    world.clock.advanceSeconds(2_592_000 + 86_400 + 1);
    // The next authorisation sweeps them.
    await connect(world, app);
    expect(await left()).toEqual({ tokens: 0, codes: 0 });
  });

  it('expires the access token after 172,800 s and the refresh token after 2,592,000 s', async () => {
    const app = await registerApp(world);
    const tokens = await connect(world, app);
    world.clock.advanceSeconds(172_800 - 1);
    expect((await version(tokens.access_token)).status).toBe(200);
    world.clock.advanceSeconds(1);
    const expired = await version(tokens.access_token);
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('INVALID_TOKEN');
    // RFC 6750 §3.1: the challenge tells an OAuth client to refresh.
    expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');

    const renewed = await refresh(app, tokens.refresh_token!);
    expect(renewed.status).toBe(200);
    expect((await version(renewed.body.access_token)).status).toBe(200);

    world.clock.advanceSeconds(2_592_000);
    expect((await refresh(app, renewed.body.refresh_token)).body).toEqual({
      error: 'invalid_grant',
      error_description: 'the refresh token has expired',
    });
  });
});

describe('revocation (RFC 7009)', () => {
  it('revokes an access token alone, or a refresh token with its whole grant', async () => {
    const app = await registerApp(world);
    const tokens = await connect(world, app);
    await oauth.processRevocationResponse(await oauth.revocationRequest(world.as, app.client, app.auth, tokens.access_token, insecure));
    expect((await version(tokens.access_token)).status).toBe(401);
    const renewed = await refresh(app, tokens.refresh_token!);
    expect(renewed.status).toBe(200);

    await oauth.processRevocationResponse(await oauth.revocationRequest(world.as, app.client, app.auth, renewed.body.refresh_token, insecure));
    expect((await version(renewed.body.access_token)).status).toBe(401);
    expect((await refresh(app, renewed.body.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('answers 200 for a token it does not know, and refuses a client with a wrong secret', async () => {
    const app = await registerApp(world);
    await expect(
      oauth.processRevocationResponse(await oauth.revocationRequest(world.as, app.client, app.auth, 'sat_at_unknown', insecure)),
    ).resolves.toBeUndefined();
    const wrong = await oauth.revocationRequest(world.as, app.client, oauth.ClientSecretBasic('nope'), 'sat_at_unknown', insecure);
    expect(wrong.status).toBe(401);
  });
});

describe("seed 004's own request format: every parameter in the URL", () => {
  it('exchanges a code and refreshes with the parameters in the query string, and refuses one given twice differently', async () => {
    const app = await registerApp(world);
    const { code } = await codeFor(app, { pkce: false });
    const inUrl = (parameters: Record<string, string>) =>
      fetch(
        `${world.as.token_endpoint!}?${new URLSearchParams({ client_id: app.client.client_id, client_secret: app.clientSecret!, ...parameters }).toString()}`,
        { method: 'POST' },
      );
    const exchanged = await inUrl({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK });
    expect(exchanged.status).toBe(200);
    const tokens = (await exchanged.json()) as { access_token: string; refresh_token: string };
    expect((await version(tokens.access_token)).status).toBe(200);

    const refreshed = await inUrl({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refreshed.status).toBe(200);

    const conflicting = await fetch(`${world.as.token_endpoint!}?grant_type=authorization_code`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: app.client.client_id, client_secret: app.clientSecret! }),
    });
    expect(conflicting.status).toBe(400);
    expect(await conflicting.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('answers a JSON body or a repeated parameter with invalid_request, in the RFC shape OAuth clients parse', async () => {
    const app = await registerApp(world);
    const basic = `Basic ${Buffer.from(`${app.client.client_id}:${app.clientSecret}`).toString('base64')}`;
    const json = await fetch(world.as.token_endpoint!, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'x' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('x-www-form-urlencoded') });
    const repeated = await fetch(world.as.token_endpoint!, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=a&refresh_token=b',
    });
    expect(repeated.status).toBe(400);
    expect(await repeated.json()).toEqual({ error: 'invalid_request', error_description: 'refresh_token is given more than once' });
    const nul = await fetch(world.as.token_endpoint!, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=a%00b',
    });
    expect(nul.status).toBe(400);
    expect(await nul.json()).toMatchObject({ error: 'invalid_request' });
  });
});
