import { screenshot, seriousAccessibilityViolations } from '../support/browser';
import { consoleFixture } from './console-fixture';

// The import worker runs in the background, as under `npm start`.
const fixture = consoleFixture({ contacts: [{ email: 'petro@example.com', firstName: 'Before' }] });

const csvFile = (text: string) => ({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });

it('imports a CSV file, following its progress until done, and lists the rows it refused', async () => {
  const { stack, user } = fixture;
  const { page, problems } = await fixture.signedInAt('Import contacts');
  await page.getByText('No import started yet.').waitFor();

  // Nothing chosen: said at the file input, nothing sent.
  await page.getByRole('button', { name: 'Import' }).click();
  await page
    .locator('.field', { has: page.getByLabel('CSV file') })
    .getByText('Choose a CSV file to import.')
    .waitFor();

  await page
    .getByLabel('CSV file')
    .setInputFiles(csvFile('Email;First name;Last name\npetro@example.com;Petro;Koval\nmaria@example.com;Maria;Shevchenko\nnot-an-email;Bad;Row\n'));
  await page.getByLabel('Match existing contacts by').selectOption({ label: 'Email' });
  await page.getByRole('button', { name: 'Import' }).click();

  const progress = page.getByRole('region', { name: 'Import progress' });
  await progress.getByRole('status').filter({ hasText: 'Finished: 1 created, 1 updated, 1 not imported.' }).waitFor();
  const bar = progress.getByRole('progressbar', { name: 'Contacts imported' });
  expect([await bar.getAttribute('value'), await bar.getAttribute('max')]).toEqual(['2', '2']);
  const refused = progress.getByRole('row', { name: /Row 3/ });
  expect(await refused.textContent()).toMatch(/Row 3.*email.*\(INVALID_ROW\)/i);
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'import-contacts');

  // The file really went in: the existing contact was updated, the new one created.
  const petro = await stack.request(user.account, 'GET', '/api/v1/contacts?email=petro@example.com');
  expect(petro.body).toEqual([expect.objectContaining({ firstName: 'Petro', lastName: 'Koval' })]);
  const maria = await stack.request(user.account, 'GET', '/api/v1/contacts?email=maria@example.com');
  expect(maria.body).toEqual([expect.objectContaining({ firstName: 'Maria', contactSource: 'IMPORT' })]);

  // A file that cannot be read ends the import FAILED, with the reason.
  await page.getByLabel('CSV file').setInputFiles(csvFile('Colour;Size\nred;L\n'));
  await page.getByRole('button', { name: 'Import' }).click();
  await progress
    .getByRole('status')
    .filter({ hasText: /^Failed/ })
    .waitFor();
  await progress.getByRole('row', { name: /The file.*No column of the header names a contact field/ }).waitFor();
  expect(problems).toEqual([]);
});
