import { bearer, registerApp, startOAuthWorld, uploadLogo, type OAuthWorld } from './oauth-stack';

let world: OAuthWorld;

beforeAll(async () => {
  world = await startOAuthWorld();
});
afterAll(() => world.stack.stop());

const apps = (method: string, path = '', body?: unknown) => world.stack.request(world.partner, method, `/api/v1/oauth/apps${path}`, body);

describe('registering an app', () => {
  it('gives a client id and a secret shown once; the app can be created without a callback URL and given one later', async () => {
    const created = await apps('POST', '', { name: 'Stripo', scopes: ['messages'] });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(Number),
      clientId: expect.stringMatching(/^[0-9a-f]{32}$/),
      clientSecret: expect.stringMatching(/^sat_cs_/),
      name: 'Stripo',
      clientType: 'confidential',
      redirectUris: [],
      scopes: ['messages'],
      hasLogo: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const read = await apps('GET', `/${created.body.id}`);
    expect(read.body).not.toHaveProperty('clientSecret');
    expect(JSON.stringify((await apps('GET')).body)).not.toContain(created.body.clientSecret);

    const page = await fetch(`${world.issuer.origin}/oauth/authorize?response_type=code&client_id=${created.body.clientId}`);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('no callback URL registered');

    const updated = await apps('PATCH', `/${created.body.id}`, { redirectUris: ['https://stripo.example/oauth'] });
    expect(updated.body.redirectUris).toEqual(['https://stripo.example/oauth']);
    const ready = await fetch(`${world.issuer.origin}/oauth/authorize?response_type=code&client_id=${created.body.clientId}`);
    expect(ready.status).toBe(200);
  });

  it.each([
    ['http on a public host', 'http://partner.example/callback'],
    ['a fragment', 'https://partner.example/callback#x'],
    ['a relative URL', '/callback'],
    ['credentials in the URL', 'https://user:pass@partner.example/callback'],
    ['another scheme', 'javascript:alert(1)'],
  ])('refuses a callback URL with %s', async (_, uri) => {
    const response = await apps('POST', '', { name: 'Bad', scopes: ['events'], redirectUris: [uri] });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.details[0].path).toBe('body.redirectUris.0');
  });

  it.each(['http://127.0.0.1:8080/cb', 'http://localhost/cb', 'http://[::1]:3000/cb', 'https://partner.example/cb?tenant=1'])(
    'accepts %s',
    async (uri) => {
      expect((await apps('POST', '', { name: 'Fine', scopes: ['events'], redirectUris: [uri] })).status).toBe(201);
    },
  );

  it('takes only seed-004 scopes, at least one', async () => {
    expect((await apps('POST', '', { name: 'x', scopes: ['admin'] })).status).toBe(400);
    expect((await apps('POST', '', { name: 'x', scopes: [] })).status).toBe(400);
    const all = await apps('POST', '', { name: 'x', scopes: ['fullApi', 'events', 'eventsAndContacts', 'eventsAndContactsWrite', 'messages'] });
    expect(all.status).toBe(201);
  });

  it('regenerates the secret: the old one stops working, the new one works', async () => {
    const app = await registerApp(world);
    const regenerated = await apps('POST', `/${app.id}/secret`);
    expect(regenerated.status).toBe(200);
    expect(regenerated.body).toEqual({ clientId: app.client.client_id, clientSecret: expect.stringMatching(/^sat_cs_/) });
    const revoke = (secret: string) =>
      fetch(`${world.issuer.origin}/oauth/revoke`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${app.client.client_id}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'token=x',
      });
    expect((await revoke(app.clientSecret!)).status).toBe(401);
    expect((await revoke(regenerated.body.clientSecret)).status).toBe(200);
  });

  it("is the registering account's alone", async () => {
    const app = await registerApp(world);
    expect((await world.stack.request(world.customer, 'GET', `/api/v1/oauth/apps/${app.id}`)).status).toBe(404);
    expect((await world.stack.request(world.customer, 'DELETE', `/api/v1/oauth/apps/${app.id}`)).status).toBe(404);
    expect((await apps('DELETE', `/${app.id}`)).status).toBe(204);
    expect((await apps('GET', `/${app.id}`)).status).toBe(404);
  });
});

describe('the app logo', () => {
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(32)]);
  const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(32)]);
  const jpeg = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), Buffer.alloc(32)]);

  it.each([
    ['PNG', png],
    ['GIF', gif],
    ['JPG', jpeg],
  ])('takes a %s up to 1 MB, recognised by its content', async (_, image) => {
    const app = await registerApp(world);
    // The declared type is ignored: the bytes decide.
    expect((await uploadLogo(world, app.id, image, 'application/octet-stream')).status).toBe(204);
    expect((await apps('GET', `/${app.id}`)).body.hasLogo).toBe(true);
  });

  it('refuses another format named like an image, and anything over 1 MB', async () => {
    const app = await registerApp(world);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>');
    const notImage = await uploadLogo(world, app.id, svg, 'image/png');
    expect(notImage).toEqual({ status: 415, body: { error: { code: 'LOGO_TYPE_UNSUPPORTED', message: expect.any(String) } } });
    const big = Buffer.concat([png, Buffer.alloc(1024 * 1024)]);
    expect((await uploadLogo(world, app.id, big)).body.error.code).toBe('LOGO_TOO_LARGE');
    expect((await uploadLogo(world, app.id, Buffer.concat([png.subarray(0, 8), Buffer.alloc(1024 * 1024 - 8)]))).status).toBe(204);
  });
});

describe('managing apps needs full access', () => {
  it('refuses an events-only key', async () => {
    const narrow = await world.stack.createAccount({ rights: 'events' });
    const response = await world.stack.request(narrow, 'POST', '/api/v1/oauth/apps', { name: 'x', scopes: ['events'] });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('INSUFFICIENT_SCOPE');
    expect((await world.stack.request(bearer('sat_at_nothing'), 'GET', '/api/v1/oauth/apps')).status).toBe(401);
  });
});
