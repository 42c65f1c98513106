import type { Page } from 'playwright-core';
import { answerDialog, screenshot, seriousAccessibilityViolations } from '../support/browser';
import { startBigQueryDouble, type BigQueryDouble } from '../support/bigquery-double';
import { consoleFixture } from './console-fixture';

let bigQuery: BigQueryDouble;
// Before the fixture's own setup, which points the stack at it.
beforeAll(async () => {
  bigQuery = await startBigQueryDouble();
});
afterAll(async () => {
  await bigQuery?.stop();
});
const fixture = consoleFixture({
  stack: () => ({ background: false, env: { CONNECTOR_CONNECT_TIMEOUT_MS: '1500', BIGQUERY_API_ENDPOINT: bigQuery.url } }),
  customerDatabase: true,
});

async function fillPostgres(page: Page, overrides: Partial<Record<'Host' | 'Database' | 'User' | 'Password', string>> = {}): Promise<void> {
  const { customer } = fixture;
  const values = { Host: customer.host, Database: customer.database, User: customer.user, Password: customer.password, ...overrides };
  for (const [label, value] of Object.entries(values)) await page.getByLabel(label, { exact: true }).fill(value);
}

async function checkConnection(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Check connection' }).click();
  await page.getByRole('button', { name: 'Check connection' }).and(page.locator(':enabled')).waitFor();
}

it('connects PostgreSQL as seed 000 describes: check connection (failures in plain words, the SSL warning), save, edit, delete', async () => {
  const { stack, user, customer } = fixture;
  const { page, problems } = await fixture.signedInAt('Connectors');
  await page.getByText('No connectors yet.').waitFor();

  await page.getByRole('button', { name: 'Connect PostgreSQL' }).click();
  await page.getByRole('heading', { name: 'Connect PostgreSQL' }).waitFor();
  expect(await page.getByLabel('Port').inputValue()).toBe('5432');
  await page.getByLabel('Name').fill('Shop database');
  await page.getByLabel('Port').fill(String(customer.port));

  await fillPostgres(page, { Password: 'wrong password' });
  await checkConnection(page);
  await page.getByRole('alert').filter({ hasText: 'Connection failed. The user name or password is wrong.' }).waitFor();

  await fillPostgres(page, { Database: 'no_such_database' });
  await checkConnection(page);
  await page.getByRole('alert').filter({ hasText: 'There is no database with this name on the server.' }).waitFor();

  await fillPostgres(page, { Host: 'customer-db.invalid' });
  await checkConnection(page);
  await page.getByRole('alert').filter({ hasText: 'We could not find a server with this host name.' }).waitFor();

  await fillPostgres(page);
  await checkConnection(page);
  await page.getByRole('status').filter({ hasText: 'Connection established.' }).waitFor();
  // The test server speaks no TLS: "prefer" falls back to plain TCP, and the seed's warning shows.
  await page.getByRole('status').filter({ hasText: 'The connection is not protected by SSL.' }).waitFor();
  expect(await seriousAccessibilityViolations(page)).toEqual([]);

  // Seed 000: the schema is public unless the connector names another; one the database lacks is warned of.
  expect(await page.getByLabel('Schema').inputValue()).toBe('public');
  await page.getByLabel('Schema').fill('no_such_schema');
  await checkConnection(page);
  await page.getByRole('status').filter({ hasText: 'The schema does not exist in this database' }).waitFor();
  await page.getByLabel('Schema').fill('public');
  await checkConnection(page);
  await page.getByRole('status').filter({ hasText: 'Connection established.' }).waitFor();
  expect(await page.getByText('The schema does not exist in this database').count()).toBe(0);

  // The server's validation error sits next to the field it names.
  await page.getByRole('button', { name: 'Save' }).click();
  const keyColumn = page.getByLabel('Key column');
  const keyColumnError = page.locator('.field', { has: keyColumn }).locator('.field-error');
  await keyColumnError.waitFor();
  expect(await keyColumnError.textContent()).toMatch(/\S/);
  expect(await keyColumn.getAttribute('aria-invalid')).toBe('true');
  expect(await keyColumn.getAttribute('aria-describedby')).toContain(await keyColumnError.getAttribute('id'));

  await keyColumn.fill('email');
  await page.getByLabel('Matches contact field').selectOption('email');
  await screenshot(page, 'connect-postgresql');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'The connector “Shop database” was saved.' }).waitFor();
  const row = page.getByRole('row', { name: /Shop database/ });
  await row.waitFor();
  expect(await row.getByRole('cell').allTextContents()).toEqual([
    'PostgreSQL',
    `${customer.host}:${customer.port} / ${customer.database}`,
    'email = Email',
    'EditDelete',
  ]);
  await screenshot(page, 'connectors');

  // Edit: the saved password is kept when the field stays empty; the schema changes without it.
  await customer.admin.query(`CREATE SCHEMA IF NOT EXISTS sales AUTHORIZATION ${customer.user}`);
  await page.getByRole('button', { name: 'Edit Shop database' }).click();
  await page.getByLabel('Name').fill('Shop warehouse');
  expect(await page.getByLabel('Schema').inputValue()).toBe('public');
  await page.getByLabel('Schema').fill('sales');
  await checkConnection(page);
  await page.getByRole('status').filter({ hasText: 'Connection established.' }).waitFor();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('row', { name: /Shop warehouse/ }).waitFor();
  const { connectors } = (await stack.request(user.account, 'GET', '/api/v1/connectors')).body as { connectors: { postgres: { schema: string } }[] };
  expect(connectors.map((connector) => connector.postgres.schema)).toEqual(['sales']);

  // Delete asks first; dismissing keeps it.
  expect(await answerDialog(page, false, () => page.getByRole('button', { name: 'Delete Shop warehouse' }).click())).toBe(
    'Delete the connector “Shop warehouse”?',
  );
  await page.getByRole('row', { name: /Shop warehouse/ }).waitFor();
  await answerDialog(page, true, () => page.getByRole('button', { name: 'Delete Shop warehouse' }).click());
  await page.getByText('No connectors yet.').waitFor();
  expect(problems).toEqual([]);
});

it('connects BigQuery with an uploaded key file: a revoked key is named as such, a good one connects and is saved', async () => {
  bigQuery.addTable('crm', 'promo_codes', [{ name: 'email', type: 'STRING' }], [], { projectId: 'acme-marketing' });
  const revoked = bigQuery.keyFor('acme-marketing');
  bigQuery.revokeKey(revoked);
  const good = bigQuery.keyFor('acme-marketing');
  const keyFile = (key: unknown) => ({ name: 'key.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(key)) });

  const { page, problems } = await fixture.signedInAt('Connectors');
  await page.getByRole('button', { name: 'Connect BigQuery' }).click();
  await page.getByLabel('Name').fill('Marketing warehouse');
  await page.getByLabel('Service account key file (JSON)').setInputFiles(keyFile(revoked));
  await checkConnection(page);
  await page.getByRole('alert').filter({ hasText: 'Google no longer accepts this key' }).waitFor();

  await page.getByLabel('Service account key file (JSON)').setInputFiles(keyFile(good));
  await page.getByLabel('Location').fill('US');
  await checkConnection(page);
  await page.getByRole('status').filter({ hasText: 'Connection established. Project acme-marketing, 1 datasets' }).waitFor();
  await page.getByLabel('Key column').fill('email');
  await page.getByRole('button', { name: 'Save' }).click();
  const row = page.getByRole('row', { name: /Marketing warehouse/ });
  await row.waitFor();
  expect((await row.getByRole('cell').allTextContents()).slice(0, 2)).toEqual(['BigQuery', 'acme-marketing']);
  expect(problems).toEqual([]);
});
