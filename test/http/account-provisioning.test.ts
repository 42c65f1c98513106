import { createHandler } from '../../functions/provision-account/handler';
import { logIn } from '../../shared/users/login';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let provision: ReturnType<typeof createHandler>;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  provision = createHandler(stack.platform);
});
afterAll(() => stack.stop());

const accountsNamed = async (name: string) =>
  (await stack.platform.db.query('SELECT count(*)::int AS n FROM accounts WHERE name = $1', [name])).rows[0].n as number;

it('creates an account whose first key opens the API and whose owner can log in', async () => {
  const made = await provision({ account: 'Acme', user: { email: 'Owner@Acme.example' } });
  expect(made).toEqual({
    accountId: expect.any(Number),
    apiKey: expect.stringMatching(/^sk_/),
    user: { email: 'owner@acme.example', password: expect.any(String) },
  });
  const owner = { accountId: made.accountId, apiKey: made.apiKey, authorization: `Basic ${Buffer.from(`acme:${made.apiKey}`).toString('base64')}` };
  const keys = await stack.request(owner, 'GET', '/api/v1/api-keys');
  expect(keys.status).toBe(200);
  expect(keys.body).toEqual([expect.objectContaining({ name: 'owner', rights: 'fullApi' })]);
  const user = await logIn(stack.platform, { email: 'owner@acme.example', password: made.user.password, sourceIp: '192.0.2.1' });
  expect(user.accountId).toBe(made.accountId);
});

it('writes nothing when the login cannot be made, and says what is wrong with a bad request', async () => {
  await provision({ account: 'First', user: { email: 'taken@acme.example', password: 'a long passphrase' } });
  await expect(provision({ account: 'Second', user: { email: 'TAKEN@acme.example' } })).rejects.toMatchObject({ code: 'EMAIL_TAKEN' });
  expect(await accountsNamed('Second')).toBe(0);
  await expect(provision({ account: '', user: { email: 'not an email', password: 'short' } })).rejects.toThrow(
    /account:.*user\.email:.*user\.password:/,
  );
  await expect(provision('Acme')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
});
