import { createHash, randomBytes } from 'node:crypto';
import { answerDialog, screenshot, seriousAccessibilityViolations } from '../support/browser';
import { consoleFixture } from './console-fixture';

const fixture = consoleFixture({ stack: { background: false } });

const ONE_PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const bearer = (token: string) => ({ accountId: 0, apiKey: '', authorization: `Bearer ${token}` });
const basic = (key: string) => ({ accountId: 0, apiKey: key, authorization: `Basic ${Buffer.from(`x:${key}`).toString('base64')}` });

it('registers an app on the Authorization form (client id, secret shown once, logo), lists it as connected once approved, and revokes it', async () => {
  const { stack, user } = fixture;
  const { page, problems } = await fixture.signedInAt('Apps');
  await page.getByText('No app registered yet.').waitFor();

  // Server-side validation shows at the fields it names.
  await page.getByLabel('App name').fill('CRM Sync');
  await page.getByLabel('Redirect URIs').fill('http://crm.example.com/callback');
  await page.getByRole('button', { name: 'Register app' }).click();
  await page.getByText('choose at least one scope').waitFor();
  await page.getByText('use https (http only for 127.0.0.1, [::1] or localhost)').waitFor();

  const callback = `${stack.url}/`;
  await page.getByLabel('Redirect URIs').fill(callback);
  await page.getByRole('checkbox', { name: 'Events', exact: true }).check();
  await page.getByLabel('Logo (PNG, GIF or JPG, up to 1 MB)').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: ONE_PIXEL_PNG });
  await page.getByRole('button', { name: 'Register app' }).click();
  const registered = page.getByRole('status').filter({ hasText: 'The app “CRM Sync” was registered.' });
  await registered.waitFor();
  const [app] = (await stack.request(user.account, 'GET', '/api/v1/oauth/apps')).body as { clientId: string; hasLogo: boolean }[];
  expect(app).toMatchObject({ hasLogo: true });
  expect(await registered.textContent()).toContain(`Client ID: ${app!.clientId}.`);
  const clientSecret = (await page.getByLabel('Client secret').textContent())!;
  expect(clientSecret).toMatch(/^sat_cs_/);
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'apps');

  // Shown once: after a reload it is gone, only the client id stays.
  await page.reload();
  await page.getByRole('row', { name: /CRM Sync/ }).waitFor();
  expect(await page.getByText(clientSecret).count()).toBe(0);
  await page.getByText('No app is connected to this account.').waitFor();

  // The account approves the app on the consent page, in the same browser; the partner redeems the code.
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${stack.url}/oauth/authorize`);
  Object.entries({
    response_type: 'code',
    client_id: app!.clientId,
    redirect_uri: callback,
    scope: 'events',
    state: 'xyz',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).forEach(([key, value]) => authorize.searchParams.set(key, value));
  const consent = await page.context().newPage();
  await consent.goto(authorize.toString());
  await consent.getByLabel('Email').fill(user.email);
  await consent.getByLabel('Password').fill(user.password);
  await consent.getByRole('button', { name: 'Log in' }).click();
  await consent.getByRole('button', { name: 'Approve' }).click();
  await consent.waitForURL((url) => url.searchParams.has('code'));
  const code = new URL(consent.url()).searchParams.get('code')!;
  await consent.close();
  const tokens = await fetch(`${stack.url}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${app!.clientId}:${clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callback, code_verifier: verifier }),
  });
  expect(tokens.status).toBe(200);
  const { access_token: accessToken } = (await tokens.json()) as { access_token: string };
  expect((await stack.request(bearer(accessToken), 'GET', '/api/v1/version')).status).toBe(200);

  await page.getByRole('link', { name: 'Connectors' }).click();
  await page.getByRole('link', { name: 'Apps' }).click();
  const connectedRow = page.getByRole('row', { name: /CRM Sync.*Events/ }).filter({ has: page.getByRole('button', { name: 'Revoke CRM Sync' }) });
  await connectedRow.waitFor();
  await answerDialog(page, true, () => page.getByRole('button', { name: 'Revoke CRM Sync' }).click());
  await page.getByRole('status').filter({ hasText: '“CRM Sync” was disconnected.' }).waitFor();
  await page.getByText('No app is connected to this account.').waitFor();
  expect((await stack.request(bearer(accessToken), 'GET', '/api/v1/version')).status).toBe(401);
  expect(problems).toEqual([]);
});

it('creates an API key with a right (shown once) and revokes it', async () => {
  const { stack } = fixture;
  const { page, problems } = await fixture.signedInAt('Apps');
  await page.getByLabel('Key name').fill('Shop events');
  await page.getByLabel('Rights').selectOption({ label: 'Events' });
  await page.getByRole('button', { name: 'Create API key' }).click();
  await page.getByRole('status').filter({ hasText: 'The API key “Shop events” was created.' }).waitFor();
  const key = (await page.getByLabel('API key', { exact: true }).textContent())!;
  expect((await stack.request(basic(key), 'GET', '/api/v1/version')).status).toBe(200);
  // The right limits it: account settings stay closed to an events key.
  expect((await stack.request(basic(key), 'GET', '/api/v1/connectors')).status).toBe(403);

  const row = page.getByRole('row', { name: /Shop events/ });
  expect(await row.getByRole('cell').nth(1).textContent()).toBe('Events');
  await answerDialog(page, true, () => page.getByRole('button', { name: 'Revoke key Shop events' }).click());
  await row.filter({ hasText: 'Revoked' }).waitFor();
  expect((await stack.request(basic(key), 'GET', '/api/v1/version')).status).toBe(401);
  expect(problems).toEqual([]);
});
