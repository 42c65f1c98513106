import { answerDialog, screenshot, seriousAccessibilityViolations } from '../support/browser';
import { consoleFixture } from './console-fixture';

const fixture = consoleFixture({
  stack: { background: false },
  customerSql: (customer) => `
    CREATE TABLE promo_codes (id integer, email text, promo_code text, expires_on date);
    INSERT INTO promo_codes VALUES (1, 'kozak@example.com', 'AAAA-BBBB', '2027-01-31');
    CREATE SCHEMA crm;
    GRANT USAGE ON SCHEMA crm TO ${customer.user};`,
  connectorName: 'Shop database',
});

it('adds an external data source by browsing the connector (schemas, tables, columns with types) and lists it with its id for templates', async () => {
  const { stack, user } = fixture;
  const { page, problems } = await fixture.signedInAt('Data sources');
  await page.getByText('No data sources yet.').waitFor();

  await page.getByRole('button', { name: 'New source' }).click();
  await page.getByRole('heading', { name: 'External data sources' }).waitFor();
  await page.getByLabel('Connector').selectOption({ label: 'Shop database' });
  const schemas = page.getByLabel('Schema or dataset');
  await schemas.locator('option', { hasText: 'crm' }).waitFor({ state: 'attached' });
  expect(await schemas.locator('option').allTextContents()).toEqual(['Choose a schema', 'crm', 'public']);
  // The connector's schema (public, its default) is chosen first; another can be.
  await page.getByLabel('Table').waitFor();
  expect(await schemas.inputValue()).toBe('public');
  await schemas.selectOption('crm');
  await page.getByText('This schema has no table the connector’s user can read.').waitFor();
  await schemas.selectOption('public');
  await page.getByLabel('Table').selectOption('promo_codes');
  const columns = page.getByRole('table', { name: 'Columns of public.promo_codes' });
  await columns.waitFor();
  expect(await columns.getByRole('row').allTextContents()).toEqual(['ColumnType', 'idinteger', 'emailtext', 'promo_codetext', 'expires_ondate']);
  // The table's name is offered as the source's.
  expect(await page.getByLabel('Name').inputValue()).toBe('promo_codes');
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'new-data-source');

  // A name templates could not use (longer than a name may be) is refused next to the field.
  await page.getByLabel('Name').fill('p'.repeat(101));
  await page.getByRole('button', { name: 'Save' }).click();
  await page
    .locator('.field', { has: page.getByLabel('Name') })
    .locator('.field-error')
    .waitFor();

  await page.getByLabel('Name').fill('promo_codes');
  await page.getByRole('button', { name: 'Save' }).click();
  const saved = page.getByRole('status').filter({ hasText: 'The data source “promo_codes” was saved with ID' });
  await saved.waitFor();
  const { body } = await stack.request(user.account, 'GET', '/api/v1/datasources');
  const id = body.datasources[0].id as number;
  expect(await saved.textContent()).toBe(`The data source “promo_codes” was saved with ID ${id}. Use it in templates as $data.get('${id}').`);
  const row = page.getByRole('row', { name: /promo_codes/ });
  await row.waitFor();
  expect(await row.getByRole('cell').allTextContents()).toEqual([
    String(id),
    'Shop database',
    'public.promo_codes',
    `$data.get('${id}') in triggered messages; $!data.get('promo_codes') in bulk ones`,
    'Delete',
  ]);
  await screenshot(page, 'data-sources');

  await answerDialog(page, true, () => page.getByRole('button', { name: 'Delete promo_codes' }).click());
  await page.getByText('No data sources yet.').waitFor();
  expect(problems).toEqual([]);
});
