import { REFRESH_RETRY_SECONDS } from '../../shared/oauth/token-endpoint';
import { bearer, connect, registerApp, startOAuthWorld, type OAuthWorld, type RegisteredApp } from './oauth-stack';

/**
 * Refresh-token reuse revokes the grant (RFC 9700 §4.14.2), but a confidential client that
 * retries a refresh whose answer it lost gets a pair in place of the lost one, for
 * REFRESH_RETRY_SECONDS after the first exchange.
 */
let world: OAuthWorld;

beforeAll(async () => {
  world = await startOAuthWorld();
});
afterAll(() => world.stack.stop());

const version = async (token: string) => (await world.stack.request(bearer(token), 'GET', '/api/v1/version')).status;

async function refresh(app: RegisteredApp, refreshToken: string): Promise<{ status: number; body: any }> {
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.client.client_id });
  if (app.clientSecret) body.set('client_secret', app.clientSecret);
  const response = await fetch(world.as.token_endpoint!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return { status: response.status, body: await response.json() };
}

it('is documented as 60 seconds', () => {
  expect(REFRESH_RETRY_SECONDS).toBe(60);
});

it('gives a confidential client that lost the answer a new pair in place of the lost one, not a revoked grant', async () => {
  const app = await registerApp(world);
  const tokens = await connect(world, app);
  const lost = await refresh(app, tokens.refresh_token!);
  expect(lost.status).toBe(200);

  world.clock.advanceSeconds(REFRESH_RETRY_SECONDS - 1);
  const retried = await refresh(app, tokens.refresh_token!);
  expect(retried).toMatchObject({ status: 200, body: { token_type: 'bearer', scope: 'fullApi', expires_in: 172_800 } });
  expect(await version(retried.body.access_token)).toBe(200);
  // The lost pair never works: one pair continues the authorization.
  expect(await version(lost.body.access_token)).toBe(401);
  expect((await refresh(app, lost.body.refresh_token)).body).toEqual({
    error: 'invalid_grant',
    error_description: 'the refresh token is not valid for this client',
  });
  // …and that refusal did not revoke anything: the retry's pair rotates on as usual.
  const next = await refresh(app, retried.body.refresh_token);
  expect(next.status).toBe(200);
  expect(await version(next.body.access_token)).toBe(200);
});

it('revokes the grant when the retry comes after the window', async () => {
  const app = await registerApp(world);
  const tokens = await connect(world, app);
  const first = await refresh(app, tokens.refresh_token!);
  world.clock.advanceSeconds(REFRESH_RETRY_SECONDS + 1);
  expect((await refresh(app, tokens.refresh_token!)).body.error_description).toContain('already used');
  expect(await version(first.body.access_token)).toBe(401);
});

it('does not stretch the window by retrying within it', async () => {
  const app = await registerApp(world);
  const tokens = await connect(world, app);
  await refresh(app, tokens.refresh_token!);
  world.clock.advanceSeconds(40);
  const retried = await refresh(app, tokens.refresh_token!);
  expect(retried.status).toBe(200);
  world.clock.advanceSeconds(40);
  expect((await refresh(app, tokens.refresh_token!)).body.error_description).toContain('already used');
  expect(await version(retried.body.access_token)).toBe(401);
});

it('revokes the grant when the pair the first exchange issued was already used to refresh (the answer was not lost)', async () => {
  const app = await registerApp(world);
  const tokens = await connect(world, app);
  const first = await refresh(app, tokens.refresh_token!);
  const second = await refresh(app, first.body.refresh_token);
  expect(second.status).toBe(200);
  world.clock.advanceSeconds(1);
  expect((await refresh(app, tokens.refresh_token!)).body.error_description).toContain('already used');
  expect(await version(second.body.access_token)).toBe(401);
});

it('gives a public client no window: the replay revokes the grant at once', async () => {
  const app = await registerApp(world, { clientType: 'public' });
  const tokens = await connect(world, app);
  const first = await refresh(app, tokens.refresh_token!);
  expect(first.status).toBe(200);
  expect((await refresh(app, tokens.refresh_token!)).body.error_description).toContain('already used');
  expect(await version(first.body.access_token)).toBe(401);
});
