import { apiRoutes } from '../../functions/api/routes';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

let stack: TestStack;
let account: TestAccount;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
});
afterAll(() => stack.stop());

/** RFC 6749 §3.1/§3.2: these must ignore parameters they do not know, so they take any name. */
const OAUTH_PROTOCOL = [
  'GET /oauth/authorize',
  'POST /oauth/authorize',
  'POST /oauth/token',
  'POST /oauth/revoke',
  'GET /uaa/oauth/authorize',
  'POST /uaa/oauth/authorize',
  'POST /uaa/oauth/token',
];

describe('a query parameter a method does not know', () => {
  it('is refused with 400 on every route of the API, before anything else happens', async () => {
    const open = apiRoutes.filter((route) => route.queryNames === 'any').map((route) => `${route.method} ${route.path}`);
    expect(open.sort()).toEqual([...OAUTH_PROTOCOL].sort());

    const answers: string[] = [];
    for (const route of apiRoutes.filter((candidate) => candidate.queryNames !== 'any')) {
      const path = route.path.replace(/\{\w+\}/g, '1');
      const response = await stack.request(account, route.method, `${path}?satelliteUnknown=1`);
      answers.push(`${route.method} ${route.path} ${response.status} ${response.body?.error?.code} ${response.body?.error?.details?.[0]?.path}`);
    }
    expect(answers).toEqual(
      apiRoutes
        .filter((route) => route.queryNames !== 'any')
        .map((route) => `${route.method} ${route.path} 400 VALIDATION_FAILED query.satelliteUnknown`),
    );
  });

  it('is refused even empty, and a filter a route does not have lists nothing', async () => {
    await stack.request(account, 'POST', '/api/v1/groups', { name: 'first' });
    await stack.request(account, 'POST', '/api/v1/groups', { name: 'second' });
    const filtered = await stack.request(account, 'GET', '/api/v1/groups?name=first');
    expect([filtered.status, filtered.body.error.details]).toEqual([400, [{ path: 'query.name', message: 'unknown query parameter' }]]);
    expect((await stack.request(account, 'GET', '/api/v1/groups?name=')).status).toBe(400);
    // A declared parameter left empty still counts as not given.
    expect((await stack.request(account, 'GET', '/api/v1/contacts?email=&maxrows=10')).status).toBe(200);
    expect((await stack.request(account, 'GET', '/api/v1/groups')).status).toBe(200);
  });
});
