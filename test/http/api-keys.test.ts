import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

let stack: TestStack;
let owner: TestAccount;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  owner = await stack.createAccount();
});
afterAll(() => stack.stop());

const basic = (key: string): TestAccount => ({ accountId: 0, apiKey: key, authorization: `Basic ${Buffer.from(`x:${key}`).toString('base64')}` });

describe('API keys', () => {
  it('issues a key with a right, shows it once, and it opens only its groups', async () => {
    const issued = await stack.request(owner, 'POST', '/api/v1/api-keys', { name: 'tracker', rights: 'events' });
    expect(issued.status).toBe(201);
    expect(issued.body).toEqual({ id: expect.any(Number), name: 'tracker', rights: 'events', key: expect.stringMatching(/^sk_/) });

    const listed = await stack.request(owner, 'GET', '/api/v1/api-keys');
    const entry = listed.body.find((key: { id: number }) => key.id === issued.body.id);
    expect(entry).toEqual({
      id: issued.body.id,
      name: 'tracker',
      prefix: issued.body.key.slice(0, 6),
      rights: 'events',
      createdAt: expect.any(String),
      revokedAt: null,
    });
    expect(listed.text).not.toContain(issued.body.key);

    const eventsOnly = basic(issued.body.key);
    expect((await stack.request(eventsOnly, 'GET', '/api/v1/version')).status).toBe(200);
    const refused = await stack.request(eventsOnly, 'GET', '/api/v1/api-keys');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('INSUFFICIENT_SCOPE');
  });

  it('revokes a key at once', async () => {
    const issued = await stack.request(owner, 'POST', '/api/v1/api-keys', { name: 'temporary' });
    const key = basic(issued.body.key);
    expect((await stack.request(key, 'GET', '/api/v1/version')).status).toBe(200);
    expect((await stack.request(owner, 'DELETE', `/api/v1/api-keys/${issued.body.id}`)).status).toBe(204);
    expect((await stack.request(key, 'GET', '/api/v1/version')).status).toBe(401);
  });

  it("cannot see or revoke another account's keys", async () => {
    const other = await stack.createAccount();
    const theirs = await stack.request(other, 'POST', '/api/v1/api-keys', { name: 'theirs' });
    expect((await stack.request(owner, 'DELETE', `/api/v1/api-keys/${theirs.body.id}`)).status).toBe(404);
    const mine = await stack.request(owner, 'GET', '/api/v1/api-keys');
    expect(mine.body.map((key: { id: number }) => key.id)).not.toContain(theirs.body.id);
  });

  it('refuses an unknown right', async () => {
    const response = await stack.request(owner, 'POST', '/api/v1/api-keys', { name: 'x', rights: 'admin' });
    expect(response.status).toBe(400);
  });
});
