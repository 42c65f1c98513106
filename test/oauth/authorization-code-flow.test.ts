import * as oauth from 'oauth4webapi';
import { Browser } from './browser';
import { authorizeInBrowser, bearer, CALLBACK, connect, insecure, registerApp, startOAuthWorld, uploadLogo, type OAuthWorld } from './oauth-stack';

let world: OAuthWorld;

beforeAll(async () => {
  world = await startOAuthWorld();
});
afterAll(() => world.stack.stop());

const version = (token: string) => world.stack.request(bearer(token), 'GET', '/api/v1/version');

describe('discovery (RFC 8414)', () => {
  it('describes the endpoints, the code flow only, S256 PKCE and the seed-004 scopes', () => {
    expect(world.as).toMatchObject({
      issuer: world.issuer.origin,
      authorization_endpoint: `${world.issuer.origin}/oauth/authorize`,
      token_endpoint: `${world.issuer.origin}/oauth/token`,
      revocation_endpoint: `${world.issuer.origin}/oauth/revoke`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['fullApi', 'events', 'eventsAndContacts', 'eventsAndContactsWrite', 'messages', 'UseRestApi'],
    });
  });
});

describe('the authorization-code flow, driven by an OAuth client library', () => {
  it('connects a confidential app with PKCE, calls the API as the account, and refreshes', async () => {
    const app = await registerApp(world);
    const tokens = await connect(world, app);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'fullApi', expires_in: 172_800 });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect((await version(tokens.access_token)).status).toBe(200);

    const refreshed = await oauth.processRefreshTokenResponse(
      world.as,
      app.client,
      await oauth.refreshTokenGrantRequest(world.as, app.client, app.auth, tokens.refresh_token!, insecure),
    );
    expect(refreshed).toMatchObject({ token_type: 'bearer', scope: 'fullApi', expires_in: 172_800 });
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await version(refreshed.access_token)).status).toBe(200);
  });

  it('keeps a partner app with full access away from the account’s API keys, apps and connections', async () => {
    const app = await registerApp(world);
    const tokens = await connect(world, app);
    const partner = bearer(tokens.access_token);
    // A key it minted would outlive its own grant, which the owner revokes by disconnecting it.
    for (const [method, path, body] of [
      ['POST', '/api/v1/api-keys', { name: 'from a partner' }],
      ['GET', '/api/v1/api-keys', undefined],
      ['POST', '/api/v1/oauth/apps', { name: 'Another app', redirectUris: [CALLBACK], scopes: ['fullApi'] }],
      ['GET', '/api/v1/oauth/connected-apps', undefined],
      ['DELETE', `/api/v1/oauth/connected-apps/${app.id}`, undefined],
    ] as const) {
      const response = await world.stack.request(partner, method, path, body);
      expect([path, response.status, response.body.error?.code]).toEqual([path, 403, 'API_KEY_REQUIRED']);
    }
    // A narrower app is told the same: no scope would open these.
    const narrow = await connect(world, await registerApp(world, { scopes: ['events'] }));
    expect((await world.stack.request(bearer(narrow.access_token), 'GET', '/api/v1/api-keys')).body.error.code).toBe('API_KEY_REQUIRED');
    // The rest of full access stays open to it.
    expect((await world.stack.request(partner, 'GET', '/api/v1/webhook')).status).not.toBe(403);
    const keys = await world.stack.platform.db.query('SELECT count(*)::int AS n FROM api_keys WHERE name = $1', ['from a partner']);
    expect(keys.rows[0].n).toBe(0);
  });

  it('stores codes, tokens and secrets only as hashes', async () => {
    const app = await registerApp(world);
    const tokens = await connect(world, app);
    const dump = await world.stack.platform.db.query(
      `SELECT (SELECT string_agg(encode(token_hash, 'escape'), ',') FROM oauth_tokens) AS tokens,
              (SELECT string_agg(encode(client_secret_hash, 'escape'), ',') FROM oauth_apps) AS secrets`,
    );
    const stored = JSON.stringify(dump.rows);
    expect(stored).not.toContain(tokens.access_token);
    expect(stored).not.toContain(tokens.refresh_token);
    expect(stored).not.toContain(app.clientSecret);
  });

  it('accepts the client secret in the form as well as by HTTP Basic', async () => {
    const app = await registerApp(world);
    const tokens = await connect(world, { ...app, auth: oauth.ClientSecretPost(app.clientSecret!) });
    expect((await version(tokens.access_token)).status).toBe(200);
  });

  it('lets a confidential app go without PKCE', async () => {
    const app = await registerApp(world);
    const tokens = await connect(world, app, { pkce: false });
    expect((await version(tokens.access_token)).status).toBe(200);
  });

  it('lets a public app (no secret) in only with PKCE', async () => {
    const app = await registerApp(world, { clientType: 'public' });
    expect(app.clientSecret).toBeUndefined();
    const tokens = await connect(world, app);
    expect((await version(tokens.access_token)).status).toBe(200);

    const withoutPkce = await authorizeInBrowser(world, app, { pkce: false }).catch((error: Error) => error);
    expect(String(withoutPkce)).toContain('authorize page answered 302');
    const page = await new Browser(world.issuer.origin).get(`/oauth/authorize?response_type=code&client_id=${app.client.client_id}&state=s1`);
    const location = new URL(page.location!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe('s1');
  });

  it('grants a narrower scope than the app has when asked, and the token carries only that', async () => {
    const app = await registerApp(world, { scopes: ['events', 'messages'] });
    const tokens = await connect(world, app, { scope: 'events' });
    expect(tokens.scope).toBe('events');
  });
});

describe('the login and consent pages', () => {
  it('ask for a login, then name the app, its logo and its scopes, in a page that may not be framed', async () => {
    const app = await registerApp(world, { name: 'Acme <CRM>', scopes: ['eventsAndContacts', 'messages'] });
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(64, 1)]);
    expect((await uploadLogo(world, app.id, png)).status).toBe(204);

    const browser = new Browser(world.issuer.origin);
    const login = await browser.get(
      `/oauth/authorize?response_type=code&client_id=${app.client.client_id}&redirect_uri=${encodeURIComponent(CALLBACK)}&state=x`,
    );
    expect(login.status).toBe(200);
    expect(login.html).toContain('<input type="email" name="email"');
    expect(login.html).toContain('<input type="password" name="password"');
    expect(login.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(login.headers.get('x-frame-options')).toBe('DENY');

    const consent = await browser.logIn(login, world.customer.email, world.customer.password);
    expect(consent.status).toBe(200);
    expect(consent.html).toContain('Acme &#60;CRM&#62; wants access');
    expect(consent.html).not.toContain('Acme <CRM>');
    expect(consent.html).toContain('src="data:image/png;base64,');
    expect(consent.html).toContain('data-scope="eventsAndContacts"');
    expect(consent.html).toContain('data-scope="messages"');
    expect(consent.html).toContain('value="approve"');
  });

  it('shows the login form again, with a message, after a wrong password', async () => {
    const app = await registerApp(world);
    const browser = new Browser(world.issuer.origin);
    const login = await browser.get(`/oauth/authorize?response_type=code&client_id=${app.client.client_id}`);
    const wrong = await browser.submit(login, { email: world.customer.email, password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('Wrong email or password');
    expect(wrong.location).toBeUndefined();
  });

  it('refuses a consent form without the CSRF token of the browser session', async () => {
    const app = await registerApp(world);
    const browser = new Browser(world.issuer.origin);
    const login = await browser.get(`/oauth/authorize?response_type=code&client_id=${app.client.client_id}`);
    const consent = await browser.logIn(login, world.customer.email, world.customer.password);

    const forged = await browser.submit(consent, { action: 'approve', csrf_token: 'forged' });
    expect(forged.status).toBe(403);
    expect(forged.location).toBeUndefined();

    browser.forgetCookies();
    const crossSite = await browser.submit(consent, { action: 'approve' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.location).toBeUndefined();
  });

  it('sends the person back with access_denied and the state when they deny', async () => {
    const app = await registerApp(world);
    const browser = new Browser(world.issuer.origin);
    const login = await browser.get(`/oauth/authorize?response_type=code&client_id=${app.client.client_id}&state=abc`);
    const consent = await browser.logIn(login, world.customer.email, world.customer.password);
    const denied = await browser.submit(consent, { action: 'deny' });
    expect(denied.status).toBe(302);
    const location = new URL(denied.location!);
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('abc');
    expect(() => oauth.validateAuthResponse(world.as, app.client, location, 'abc')).toThrow(oauth.AuthorizationResponseError);
  });

  it('answers any response_type but code with unsupported_response_type', async () => {
    const app = await registerApp(world);
    const page = await new Browser(world.issuer.origin).get(`/oauth/authorize?response_type=token&client_id=${app.client.client_id}&state=t`);
    expect(page.status).toBe(302);
    expect(new URL(page.location!).searchParams.get('error')).toBe('unsupported_response_type');
  });

  it('shows an error page, and redirects nowhere, for an unknown client', async () => {
    const page = await new Browser(world.issuer.origin).get(
      `/oauth/authorize?response_type=code&client_id=nope&redirect_uri=${encodeURIComponent(CALLBACK)}`,
    );
    expect(page.status).toBe(400);
    expect(page.location).toBeUndefined();
    expect(page.html).toContain('No app is registered');
  });

  it('refuses the plain PKCE method', async () => {
    const app = await registerApp(world);
    const page = await new Browser(world.issuer.origin).get(
      `/oauth/authorize?response_type=code&client_id=${app.client.client_id}&code_challenge=${'a'.repeat(43)}&code_challenge_method=plain`,
    );
    expect(new URL(page.location!).searchParams.get('error')).toBe('invalid_request');
  });
});

describe('connected apps', () => {
  it('lists the apps an account authorised with scopes, since and last used, and disconnects one at once', async () => {
    const app = await registerApp(world, { name: 'Connected CRM', scopes: ['events', 'eventsAndContacts'] });
    const tokens = await connect(world, app);
    expect((await version(tokens.access_token)).status).toBe(200);

    const listed = await world.stack.request(world.customer, 'GET', '/api/v1/oauth/connected-apps');
    expect(listed.status).toBe(200);
    const entry = listed.body.find((connected: { appId: number }) => connected.appId === app.id);
    expect(entry).toEqual({
      appId: app.id,
      clientId: app.client.client_id,
      name: 'Connected CRM',
      scopes: ['events', 'eventsAndContacts'],
      connectedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      lastUsedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    const disconnected = await world.stack.request(world.customer, 'DELETE', `/api/v1/oauth/connected-apps/${app.id}`);
    expect(disconnected.status).toBe(204);
    expect((await version(tokens.access_token)).status).toBe(401);
    const after = await world.stack.request(world.customer, 'GET', '/api/v1/oauth/connected-apps');
    expect(after.body.map((connected: { appId: number }) => connected.appId)).not.toContain(app.id);
  });
});
