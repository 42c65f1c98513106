import { readFileSync } from 'node:fs';
import path from 'node:path';
import { apiRoutes } from '../../functions/api/routes';
import { textLimitsOf, withInputLimits } from '../../shared/http/input-limits';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

const DOC = path.join(__dirname, '..', '..', 'docs', 'api-conventions.md');

describe('the input limits in docs/api-conventions.md', () => {
  it('are the ones the routes’ schemas enforce (run `npm run docs:limits` after changing a schema)', () => {
    const document = readFileSync(DOC, 'utf8');
    expect(document).toBe(withInputLimits(document, apiRoutes));
  });

  it('are read from the schemas as they validate', () => {
    const contact = apiRoutes.find((route) => route.method === 'POST' && route.path === '/api/v1/contact')!;
    const limits = Object.fromEntries(textLimitsOf(contact.body!).map((limit) => [limit.path, limit]));
    expect(limits.firstName).toEqual({ path: 'firstName', maxLength: 50, trimmed: true });
    expect(limits['address.address']).toEqual({ path: 'address.address', maxLength: 500, trimmed: false });
  });
});

describe('what the table says, through the API', () => {
  let stack: TestStack;
  let account: TestAccount;
  beforeAll(async () => {
    stack = await startTestStack({ background: false });
    account = await stack.createAccount();
  });
  afterAll(() => stack.stop());

  it('refuses a first name past 50 characters rather than cutting it, and trims names and IDs', async () => {
    const tooLong = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'limit-1', firstName: 'a'.repeat(51) });
    expect([tooLong.status, tooLong.body.error.details[0].path]).toEqual([400, 'body.firstName']);
    const saved = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: '  limit-1  ', firstName: `  ${'a'.repeat(50)}  ` });
    expect(saved.status).toBe(200);
    const contact = await stack.request(account, 'GET', `/api/v1/contact/${saved.body.id}`);
    expect([contact.body.externalCustomerId, contact.body.firstName]).toEqual(['limit-1', 'a'.repeat(50)]);
  });
});
