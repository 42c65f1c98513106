import { loginLimits } from '../../shared/users/login';
import { Browser } from './browser';
import { registerApp, startOAuthWorld, type OAuthWorld } from './oauth-stack';

let world: OAuthWorld;
let authorizePath: string;

beforeAll(async () => {
  world = await startOAuthWorld();
  const app = await registerApp(world);
  authorizePath = `/oauth/authorize?response_type=code&client_id=${app.client.client_id}`;
});
afterAll(() => world.stack.stop());

async function tryLogin(email: string, password: string): Promise<number> {
  const browser = new Browser(world.issuer.origin);
  return (await browser.submit(await browser.get(authorizePath), { email, password })).status;
}

it('stores passwords as scrypt hashes', async () => {
  const { rows } = await world.stack.platform.db.query<{ password_hash: string }>('SELECT password_hash FROM account_users WHERE email = $1', [
    world.customer.email,
  ]);
  expect(rows[0]!.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
  expect(rows[0]!.password_hash).not.toContain(world.customer.password);
});

it('takes the email in any case', async () => {
  expect(await tryLogin(world.customer.email.toUpperCase(), world.customer.password)).toBe(303);
});

it('stops logins to an account after repeated failures, even with the right password, until the window passes', async () => {
  for (let attempt = 0; attempt < loginLimits.failuresPerAccount; attempt += 1) {
    expect(await tryLogin(world.customer.email, `wrong ${attempt}`)).toBe(401);
  }
  expect(await tryLogin(world.customer.email, world.customer.password)).toBe(429);
  // Another account is not affected.
  expect(await tryLogin(world.other.email, world.other.password)).toBe(303);

  world.clock.advanceSeconds(loginLimits.windowSeconds + 1);
  expect(await tryLogin(world.customer.email, world.customer.password)).toBe(303);
});

it('lets the account in again a window after the last real failure, however often logins were refused meanwhile', async () => {
  world.clock.advanceSeconds(loginLimits.windowSeconds + 1);
  for (let attempt = 0; attempt < loginLimits.failuresPerAccount; attempt += 1) {
    expect(await tryLogin(world.customer.email, `wrong ${attempt}`)).toBe(401);
  }
  // Someone keeps trying while logins are refused: as many times as the limit, spread over the window.
  const step = Math.floor(loginLimits.windowSeconds / (loginLimits.failuresPerAccount + 1));
  for (let attempt = 0; attempt < loginLimits.failuresPerAccount; attempt += 1) {
    world.clock.advanceSeconds(step);
    expect(await tryLogin(world.customer.email, 'still guessing')).toBe(429);
  }
  world.clock.advanceSeconds(loginLimits.windowSeconds - step * loginLimits.failuresPerAccount + 1);
  expect(await tryLogin(world.customer.email, world.customer.password)).toBe(303);
});

it('stops logins from an IP that keeps failing, whichever emails it tries', async () => {
  world.clock.advanceSeconds(loginLimits.windowSeconds + 1);
  for (let attempt = 0; attempt < loginLimits.failuresPerIp; attempt += 1) {
    expect(await tryLogin(`nobody${attempt}@nowhere.example`, 'guess-guess')).toBe(401);
  }
  expect(await tryLogin(world.other.email, world.other.password)).toBe(429);
  world.clock.advanceSeconds(loginLimits.windowSeconds + 1);
  expect(await tryLogin(world.other.email, world.other.password)).toBe(303);
});
