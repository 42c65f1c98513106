import { answerDialog, screenshot, seriousAccessibilityViolations } from '../support/browser';
import { consoleFixture } from './console-fixture';

const fixture = consoleFixture({
  // Two datasets' first runs into a fresh schema can collide creating their tables (PostgreSQL's
  // CREATE TABLE IF NOT EXISTS race); the run is retried, here without waiting.
  stack: { env: { EXPORT_RETRY_BASE_SECONDS: '0' } },
  connectorName: 'Warehouse',
  contacts: [{ email: 'one@example.com' }, { email: 'two@example.com' }],
});

it('sets up a data export (connector, interval, datasets ticked, schema public), runs it now and shows its run history', async () => {
  const { customer } = fixture;
  const { page, problems } = await fixture.signedInAt('Data export');
  await page.getByText('No data export yet.').waitFor();

  await page.getByRole('button', { name: 'New data export' }).click();
  await page.getByLabel('Connector').selectOption({ label: 'Warehouse' });
  await page.getByLabel('Upload interval').selectOption({ label: 'Every day' });
  expect(await page.getByLabel('Schema').inputValue()).toBe('public');
  // Nothing ticked: the server's refusal is shown at the datasets.
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Tick at least one dataset.').waitFor();
  await page.getByRole('checkbox', { name: 'Contacts' }).check();
  await page.getByRole('checkbox', { name: 'Orders' }).check();
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'new-data-export');
  await page.getByRole('button', { name: 'Save' }).click();

  const row = page.getByRole('row', { name: /Export \d+ to Warehouse/ });
  await row.waitFor();
  expect((await row.getByRole('cell').allTextContents()).slice(0, 2)).toEqual(['Every day', 'Contacts, Orders']);
  await row.getByRole('button', { name: /^Run history/ }).click();
  await page.getByText('This export has not run yet.').waitFor();

  await row.getByRole('button', { name: /^Run now/ }).click();
  const history = page.getByRole('region', { name: /Run history of export/ });
  const contactsRun = history.getByRole('row', { name: /Contacts/ });
  await contactsRun.filter({ hasText: 'Done' }).waitFor({ timeout: 30_000 });
  await history
    .getByRole('row', { name: /Orders/ })
    .filter({ hasText: 'Done' })
    .waitFor({ timeout: 30_000 });
  const cells = await contactsRun.getByRole('cell').allTextContents();
  expect(cells.slice(1, 5)).toEqual(['Contacts', 'Run now', 'Done', '2']);
  expect(cells[6]).toBe('—');
  expect(await history.getByRole('img', { name: /Rows per run: 2 runs, 2 rows in all/ }).count()).toBe(1);
  // The rows are in the customer's database, as the history says.
  const { rows } = await customer.admin.query('SELECT count(*)::int AS n FROM public.contacts');
  expect(rows[0].n).toBe(2);
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'data-export');

  await row.getByRole('button', { name: /^Pause/ }).click();
  await row.filter({ hasText: 'Paused' }).waitFor();
  await answerDialog(page, true, () => row.getByRole('button', { name: /^Delete/ }).click());
  await page.getByText('No data export yet.').waitFor();
  expect(problems).toEqual([]);
});
