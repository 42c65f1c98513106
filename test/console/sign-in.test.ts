import { gzipSync } from 'node:zlib';
import { CONSOLE_SCRIPT_BUDGET_GZIP_BYTES } from '../../console/build';
import { consoleSessionLimits } from '../../shared/console/sessions';
import { openConsole, screenshot, seriousAccessibilityViolations, signIn } from '../support/browser';
import { FakeClock } from '../support/fake-clock';
import { consoleFixture } from './console-fixture';

const clock = new FakeClock();
const fixture = consoleFixture({ stack: { background: false, clock } });

describe('the console at /', () => {
  it('is served with a strict content security policy, its script within budget', async () => {
    const { stack } = fixture;
    const page = await fetch(`${stack.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    const script = Buffer.from(await (await fetch(`${stack.url}/console/app.js`)).arrayBuffer());
    expect(gzipSync(script).length).toBeLessThanOrEqual(CONSOLE_SCRIPT_BUDGET_GZIP_BYTES);
    // The API answers as before next to it.
    expect((await stack.request(undefined, 'GET', '/api/v1/connectors')).status).toBe(401);
  });

  it('signs in with the account user, shows the connectors screen, and signs out', async () => {
    const { stack, browser, user } = fixture;
    const { page, problems } = await openConsole(browser, stack);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page.getByRole('alert'), 'Wrong email or password.');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'sign-in');

    await signIn(page, user);
    await page.getByRole('heading', { name: 'Connectors' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Account settings' }).getByRole('link').allTextContents()).toEqual([
      'Connectors',
      'Data sources',
      'Data export',
      'Webhooks',
      'Apps',
      'Import contacts',
      'Segments',
      'Template editor',
    ]);
    // The session is an HttpOnly cookie the page's script cannot read.
    const cookies = await page.context().cookies();
    expect(cookies.find((cookie) => cookie.name === 'satellite_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate('document.cookie')).toBe('');

    // A reload keeps the session.
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('is operable by keyboard alone, with a visible focus', async () => {
    const { stack, browser, user } = fixture;
    const { page } = await openConsole(browser, stack);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.labels[0].textContent')).toBe('Email');
    // The focus ring: a 3px outline on whatever holds the focus.
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.keyboard.type(user.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    // Skip link first, then the brand-less nav: Tab, Tab reaches "Data sources".
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Data sources');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Data sources' }).waitFor();
    await page.context().close();
  });

  it('ends the session after the idle time: the next action asks to sign in again', async () => {
    const { stack, browser, user } = fixture;
    const { page } = await openConsole(browser, stack);
    await signIn(page, user);
    clock.advanceSeconds(consoleSessionLimits.idleSeconds + 1);
    await page.getByRole('link', { name: 'Data sources' }).click();
    await expectText(page.getByRole('status'), 'Your session has ended. Sign in again to continue.');
    await page.context().close();
  });

  it('refuses API calls that carry the session cookie without its CSRF header', async () => {
    const { stack, user } = fixture;
    const credentials = JSON.stringify({ email: user.email, password: user.password });
    // Sign-in itself wants the header (forms cannot send JSON either: text/plain is refused with 415).
    expect((await stack.request(undefined, 'POST', '/api/v1/console/session', credentials, { 'content-type': 'text/plain' })).status).toBe(415);
    const fromAForm = await stack.request(undefined, 'POST', '/api/v1/console/session', credentials, { 'content-type': 'application/json' });
    expect(fromAForm.status).toBe(403);
    expect(fromAForm.body.error.code).toBe('CSRF_HEADER_REQUIRED');
    expect(fromAForm.headers.get('set-cookie')).toBeNull();
    const signedIn = await fetch(`${stack.url}/api/v1/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-satellite-csrf': 'sign-in' },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    expect(signedIn.status).toBe(201);
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await signedIn.json()) as { csrfToken: string };
    const forged = await stack.request(undefined, 'POST', '/api/v1/api-keys', { name: 'stolen' }, { cookie });
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('SESSION_EXPIRED');
    const genuine = await stack.request(undefined, 'GET', '/api/v1/api-keys', undefined, { cookie, 'x-satellite-csrf': csrfToken });
    expect(genuine.status).toBe(200);
  });
});

async function expectText(locator: import('playwright-core').Locator, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor();
}
