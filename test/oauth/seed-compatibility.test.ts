import * as oauth from 'oauth4webapi';
import { Browser } from './browser';
import { bearer, CALLBACK, registerApp, startOAuthWorld, type OAuthWorld, type RegisteredApp } from './oauth-stack';

/** A partner app written against seed 004 (eSputnik's URLs, scope and request shapes). */
let world: OAuthWorld;

beforeAll(async () => {
  world = await startOAuthWorld();
});
afterAll(() => world.stack.stop());

/** The authorize page as seed 004 links to it, logged in and approved; returns the callback URL. */
async function approveAt(path: string, app: RegisteredApp, extra: string): Promise<URL> {
  const browser = new Browser(world.issuer.origin);
  const login = await browser.get(
    `${path}?response_type=code&client_id=${app.client.client_id}&redirect_uri=${encodeURIComponent(CALLBACK)}${extra}`,
  );
  expect(login.status).toBe(200);
  const consent = await browser.logIn(login, world.customer.email, world.customer.password);
  const approved = await browser.submit(consent, { action: 'approve' });
  expect(approved.status).toBe(302);
  return new URL(approved.location!);
}

describe("seed 004's URLs: /uaa/oauth/authorize and /uaa/oauth/token", () => {
  it('runs the whole flow as the seed writes it: authorize there, then every parameter in the token URL', async () => {
    const app = await registerApp(world, { scopes: ['eventsAndContacts'] });
    const callback = await approveAt('/uaa/oauth/authorize', app, '');
    const code = callback.searchParams.get('code')!;
    expect(code).toBeTruthy();

    // "https://esputnik.com/uaa/oauth/token?grant_type=authorization_code&client_id=…&client_secret=…&code=…&redirect_uri=…"
    const url = new URL('/uaa/oauth/token', world.issuer);
    for (const [name, value] of Object.entries({
      grant_type: 'authorization_code',
      client_id: app.client.client_id,
      client_secret: app.clientSecret!,
      code,
      redirect_uri: CALLBACK,
    })) {
      url.searchParams.set(name, value);
    }
    const answer = await fetch(url, { method: 'POST' });
    expect(answer.status).toBe(200);
    const tokens = (await answer.json()) as { access_token: string; refresh_token: string };
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'eventsAndContacts', expires_in: 172_800 });
    expect((await world.stack.request(bearer(tokens.access_token), 'GET', '/api/v2/version')).status).toBe(200);

    // The seed's Python example: the form in the body, the client in HTTP Basic.
    const refreshed = await fetch(new URL('/uaa/oauth/token', world.issuer), {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${app.client.client_id}:${app.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    });
    expect(refreshed.status).toBe(200);

    // The seed's refresh request: everything in the URL, with the code and callback again (ignored).
    const { refresh_token: latest } = (await refreshed.json()) as { refresh_token: string };
    const seedRefresh = new URL('/uaa/oauth/token', world.issuer);
    for (const [name, value] of Object.entries({
      grant_type: 'refresh_token',
      refresh_token: latest,
      client_id: app.client.client_id,
      client_secret: app.clientSecret!,
      code,
      redirect_uri: CALLBACK,
    })) {
      seedRefresh.searchParams.set(name, value);
    }
    const again = await fetch(seedRefresh, { method: 'POST' });
    expect([again.status, ((await again.json()) as { scope: string }).scope]).toEqual([200, 'eventsAndContacts']);
  });

  it('advertises its own paths as the endpoints (the aliases behave the same but are not advertised)', () => {
    expect(world.as.authorization_endpoint).toBe(`${world.issuer.origin}/oauth/authorize`);
    expect(world.as.token_endpoint).toBe(`${world.issuer.origin}/oauth/token`);
  });
});

describe("seed 004's scope, UseRestApi", () => {
  it('grants every right the app registered for, lists them on the consent page, and answers scope UseRestApi as the seed shows', async () => {
    const app = await registerApp(world, { scopes: ['eventsAndContacts', 'messages'] });
    const browser = new Browser(world.issuer.origin);
    const verifier = oauth.generateRandomCodeVerifier();
    const login = await browser.get(
      `/oauth/authorize?response_type=code&client_id=${app.client.client_id}&redirect_uri=${encodeURIComponent(CALLBACK)}&scope=UseRestApi&state=s` +
        `&code_challenge=${await oauth.calculatePKCECodeChallenge(verifier)}&code_challenge_method=S256`,
    );
    const consent = await browser.logIn(login, world.customer.email, world.customer.password);
    expect([...consent.html.matchAll(/data-scope="(\w+)"/g)].map((match) => match[1])).toEqual(['eventsAndContacts', 'messages']);
    const approved = await browser.submit(consent, { action: 'approve' });
    const code = new URL(approved.location!).searchParams.get('code')!;

    const token = (fields: Record<string, string>) =>
      fetch(world.as.token_endpoint!, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${app.client.client_id}:${app.clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams(fields),
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));
    const tokens = await token({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier });
    expect(tokens).toMatchObject({ status: 200, body: { scope: 'UseRestApi', token_type: 'bearer' } });
    const asApp = bearer(tokens.body.access_token);
    // Both registered rights hold; rights the app did not register for do not.
    expect((await world.stack.request(asApp, 'GET', '/api/v1/contacts')).status).toBe(200);
    expect((await world.stack.request(asApp, 'GET', '/api/v1/broadcasts')).status).not.toBe(403);
    expect((await world.stack.request(asApp, 'GET', '/api/v1/webhook')).body.error.code).toBe('INSUFFICIENT_SCOPE');

    // A refresh keeps the name; asking for UseRestApi again is asking for the same; narrowing names the rights.
    const kept = await token({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token });
    expect(kept.body.scope).toBe('UseRestApi');
    const again = await token({ grant_type: 'refresh_token', refresh_token: kept.body.refresh_token, scope: 'UseRestApi' });
    expect(again.body.scope).toBe('UseRestApi');
    const narrowed = await token({ grant_type: 'refresh_token', refresh_token: again.body.refresh_token, scope: 'messages' });
    expect(narrowed.body.scope).toBe('messages');
  });

  it('is in the metadata, and unknown scopes are still refused', async () => {
    expect(world.as.scopes_supported).toContain('UseRestApi');
    const app = await registerApp(world, { scopes: ['events'] });
    const page = await new Browser(world.issuer.origin).get(
      `/oauth/authorize?response_type=code&client_id=${app.client.client_id}&scope=UseRestApi%20everything&state=s`,
    );
    expect(page.status).toBe(302);
    expect(new URL(page.location!).searchParams.get('error')).toBe('invalid_scope');
  });
});

describe('a parameter given twice at /oauth/authorize (RFC 6749 §3.1)', () => {
  it('goes back to the registered callback with invalid_request when the callback is not in doubt', async () => {
    const app = await registerApp(world);
    for (const path of ['/oauth/authorize', '/uaa/oauth/authorize']) {
      const page = await new Browser(world.issuer.origin).get(
        `${path}?response_type=code&client_id=${app.client.client_id}&redirect_uri=${encodeURIComponent(CALLBACK)}&scope=events&scope=fullApi&state=s&code_challenge_method=S256&code_challenge=${'a'.repeat(43)}`,
      );
      expect(page.status).toBe(302);
      const location = new URL(page.location!);
      expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
      expect(Object.fromEntries(location.searchParams)).toMatchObject({
        error: 'invalid_request',
        error_description: 'scope is given more than once',
        state: 's',
      });
    }
  });

  it('shows an error page, redirecting nowhere, when client_id or redirect_uri is given twice', async () => {
    const app = await registerApp(world, { redirectUris: [CALLBACK, 'http://127.0.0.1:9/other'] });
    for (const query of [
      `client_id=${app.client.client_id}&client_id=${app.client.client_id}&redirect_uri=${encodeURIComponent(CALLBACK)}`,
      `client_id=${app.client.client_id}&redirect_uri=${encodeURIComponent(CALLBACK)}&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/other')}`,
    ]) {
      const page = await new Browser(world.issuer.origin).get(`/oauth/authorize?response_type=code&${query}&state=s`);
      expect([page.status, page.location]).toEqual([400, undefined]);
      expect(page.html).toContain('more than once');
    }
  });

  it('refuses a parameter given twice in the token URL too', async () => {
    const app = await registerApp(world);
    const response = await fetch(`${world.issuer.origin}/oauth/token?grant_type=refresh_token&refresh_token=a&refresh_token=b`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${app.client.client_id}:${app.clientSecret}`).toString('base64')}` },
    });
    expect([response.status, await response.json()]).toEqual([
      400,
      { error: 'invalid_request', error_description: 'refresh_token is given more than once' },
    ]);
  });
});
