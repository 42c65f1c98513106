import chromium from '@sparticuz/chromium';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { createAccountUser } from '../../shared/users/account-users';
import type { TestAccount, TestStack } from './stack';

/**
 * A real headless Chromium for the console's tests: the binary ships inside the
 * @sparticuz/chromium npm package, so `npm ci` is the whole install.
 */
export async function launchBrowser(): Promise<Browser> {
  // Its Lambda-minded flags would weaken what the tests check (web security) or make closing
  // one page's context end the whole browser (single process).
  const args = chromium.args.filter((flag) => !['--single-process', '--disable-web-security', '--allow-running-insecure-content'].includes(flag));
  return playwright.launch({ executablePath: await chromium.executablePath(), args, headless: true });
}

export interface ConsoleUser {
  readonly account: TestAccount;
  readonly email: string;
  readonly password: string;
}

/** An account with a person who can sign in (the same login as the OAuth consent page). */
export async function createConsoleUser(
  stack: TestStack,
  email = `marketer-${Math.random().toString(36).slice(2, 8)}@example.com`,
): Promise<ConsoleUser> {
  const account = await stack.createAccount();
  const password = 'correct horse battery staple';
  await createAccountUser(stack.platform.db, account.accountId, { email, password });
  return { account, email, password };
}

/**
 * A fresh page (own cookies) at the console. Page errors, console errors (CSP violations among
 * them) and requests outside the public API are collected: a test ends by asserting there were none.
 */
export async function openConsole(browser: Browser, stack: TestStack): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(`console error: ${message.text()}`);
  });
  // The console is a client of the public API and nothing else: no other path, no other host.
  page.on('request', (request) => {
    const url = new URL(request.url());
    const ownFile = url.pathname === '/' || url.pathname.startsWith('/console/');
    if (url.origin !== stack.url || !(ownFile || url.pathname.startsWith('/api/v1/')))
      problems.push(`request outside the public API: ${request.method()} ${request.url()}`);
  });
  await page.goto(`${stack.url}/`);
  return { page, problems };
}

export async function signIn(page: Page, user: Pick<ConsoleUser, 'email' | 'password'>): Promise<void> {
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core run in the page as it stands. Evaluated through the DevTools protocol, which the
 * page's CSP does not govern, so the console's own policy stays as strict as shipped.
 */
export async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const page = globalThis as unknown as {
      document: unknown;
      axe: { run(context: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> };
    };
    const result = await page.axe.run(page.document);
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => JSON.stringify(node.target)),
    }));
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.targets.join(', ')}`);
}

/** With UPDATE_SCREENSHOTS=1 the tests refresh the screenshots kept in docs/console/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  await page.screenshot({ path: path.join(__dirname, '..', '..', 'docs', 'console', `${name}.png`), fullPage: true });
}

/** Does `action`, answers the confirmation it raises, and gives back its question. */
export async function answerDialog(page: Page, accept: boolean, action: () => Promise<unknown>): Promise<string> {
  const question = new Promise<string>((resolve) => {
    page.once('dialog', (dialog) => {
      resolve(dialog.message());
      void (accept ? dialog.accept() : dialog.dismiss());
    });
  });
  await action();
  return question;
}
