import { screenshot, seriousAccessibilityViolations } from '../support/browser';
import { consoleFixture } from './console-fixture';

const fixture = consoleFixture({
  stack: { background: false },
  customerSql: `
    CREATE TABLE loyalty (email text, points integer, tier text, joined date);
    INSERT INTO loyalty VALUES ('dina@example.com', 150, 'gold', '2024-01-05'), ('taras@example.com', 50, 'silver', '2025-03-01');`,
  connectorName: 'Shop database',
  contacts: [
    { firstName: 'Dina', email: 'dina@example.com' },
    { firstName: 'Taras', email: 'taras@example.com' },
  ],
});

beforeAll(async () => {
  const source = await fixture.stack.request(fixture.user.account, 'POST', '/api/v1/datasources', {
    connectorId: fixture.connectorId,
    dataset: 'public',
    table: 'loyalty',
    name: 'loyalty',
  });
  expect(source.status).toBe(201);
});

it('builds a segment on an external column with the operators of its type, and shows its member count and a sample', async () => {
  const { stack, user } = fixture;
  const { page, problems } = await fixture.signedInAt('Segments');
  await page.getByText('No segment yet.').waitFor();

  await page.getByLabel('Segment name').fill('Loyal customers');
  await page.getByLabel('Data source').selectOption({ label: 'loyalty (ID 1)' });
  const column = page.getByLabel('Column');
  await column.locator('option', { hasText: 'points (integer)' }).waitFor({ state: 'attached' });
  await column.selectOption({ label: 'tier (text)' });
  expect(await page.getByLabel('Condition').locator('option').allTextContents()).toEqual(['is', 'is not', 'contains', 'is empty', 'is not empty']);
  await column.selectOption({ label: 'points (integer)' });
  expect(await page.getByLabel('Condition').locator('option').allTextContents()).toEqual([
    'equals',
    'does not equal',
    'is greater than',
    'is less than',
    'is empty',
    'is not empty',
  ]);
  await page.getByLabel('Condition').selectOption({ label: 'is greater than' });
  await page.getByLabel('Value').fill('100');
  // Counted before saving, by the count-only route.
  await page.getByRole('button', { name: 'Count members' }).click();
  await page.getByRole('status').filter({ hasText: '1 contact matches this condition now.' }).waitFor();
  await page.getByLabel('Value').fill('10');
  await page.getByRole('button', { name: 'Count members' }).click();
  await page.getByRole('status').filter({ hasText: '2 contacts match this condition now.' }).waitFor();
  expect((await stack.request(user.account, 'GET', '/api/v1/groups')).body).toEqual([]);
  await page.getByLabel('Value').fill('100');
  await page.getByRole('button', { name: 'Save and count' }).click();

  const members = page.getByRole('region', { name: 'Members of Loyal customers' });
  await members.waitFor();
  expect((await members.innerText()).replace(/\n+/g, '\n')).toBe('1 contact in this segment:\nDina · dina@example.com');
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'segments');
  expect(problems).toEqual([]);
});

it('previews a template as it is typed, for a chosen contact and a pasted jsonParam, with errors by line and column', async () => {
  const { page, problems } = await fixture.signedInAt('Template editor');
  await page.getByLabel('Preview for contact').selectOption({ label: 'Dina · dina@example.com' });
  await page.getByLabel('Subject', { exact: true }).fill('Hi $!contact.firstName, your points');
  await page.getByLabel('jsonParam (data of an event, as JSON)').fill('{"promo": [{"code": "AAAA-BBBB"}]}');
  await page.getByLabel('Body', { exact: true }).fill("Code: $!data.get('promo').get(0).get('code')");
  const subject = page.getByRole('region', { name: 'Rendered subject' });
  const body = page.getByRole('region', { name: 'Rendered body' });
  await subject.filter({ hasText: 'Hi Dina, your points' }).waitFor();
  await body.filter({ hasText: 'Code: AAAA-BBBB' }).waitFor();
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'template-editor');

  // Typed as a person types: the preview follows, and a broken template says where.
  await page.getByLabel('Body', { exact: true }).fill('');
  await page.getByLabel('Body', { exact: true }).pressSequentially('Line one\n#if($contact.firstName', { delay: 5 });
  await body.filter({ hasText: /line 2, column \d+/ }).waitFor();
  await page.getByLabel('Body', { exact: true }).pressSequentially(')yes#end', { delay: 5 });
  await body.filter({ hasText: /^Line one\s+yes$/ }).waitFor();
  expect(problems).toEqual([]);
});
