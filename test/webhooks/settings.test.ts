import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

let stack: TestStack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  stack = await startTestStack({ background: false, env: { WEBHOOK_TIMEOUT_MS: '1000' } });
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
  await stack.stop();
});
afterEach(() => receiver.recover());

describe('PUT /api/v1/webhook', () => {
  let account: TestAccount;
  beforeEach(async () => {
    account = await stack.createAccount();
  });

  it('saves a URL that answers the verification GET, answers its whsec_ secret once, and GET shows only a hint of it', async () => {
    const saved = await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      url: receiver.url,
      state: 'active',
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      pendingActivities: 0,
    });
    expect(receiver.requests.at(-1)).toMatchObject({ method: 'GET', path: '/hooks' });
    const secret = saved.body.secret as string;
    const shown = await stack.request(account, 'GET', '/api/v1/webhook');
    const { secret: _shownOnce, ...withoutSecret } = saved.body as Record<string, unknown>;
    expect(shown.body).toEqual({ ...withoutSecret, secretHint: `whsec_…${secret.slice(-4)}` });
    expect(JSON.stringify(shown.body)).not.toContain(secret.slice(6, 20));
  });

  it('keeps the secret when the URL changes, without showing it again; a rotation answers the new one once', async () => {
    const first = await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url });
    const second = await stack.request(account, 'PUT', '/api/v1/webhook', { url: `${receiver.url}/v2` });
    expect(second.body).toMatchObject({ url: `${receiver.url}/v2`, secretHint: first.body.secretHint });
    expect(second.body).not.toHaveProperty('secret');
    const rotated = await stack.request(account, 'POST', '/api/v1/webhook/secret');
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(first.body.secret);
    const shown = await stack.request(account, 'GET', '/api/v1/webhook');
    expect(shown.body).not.toHaveProperty('secret');
    expect(shown.body.secretHint).toBe(`whsec_…${(rotated.body.secret as string).slice(-4)}`);
  });

  it.each([
    ['a 404 answer', { status: 404 }, 'WEBHOOK_VERIFICATION_FAILED', /HTTP 404/],
    ['a 500 answer', { status: 500 }, 'WEBHOOK_VERIFICATION_FAILED', /HTTP 500/],
    ['a dropped connection', { kind: 'reset' as const }, 'WEBHOOK_UNREACHABLE', /CONNECTION_RESET/],
    ['no answer in time', { kind: 'timeout' as const }, 'WEBHOOK_UNREACHABLE', /TIMEOUT/],
  ])('refuses the URL on %s, saying why, and saves nothing', async (_, failure, code, message) => {
    receiver.failNext(1, failure);
    const refused = await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe(code);
    expect(refused.body.error.message).toMatch(message);
    expect((await stack.request(account, 'GET', '/api/v1/webhook')).status).toBe(404);
  });

  it('refuses a closed port and an unknown host', async () => {
    const closed = await stack.request(account, 'PUT', '/api/v1/webhook', { url: 'http://127.0.0.1:1/hooks' });
    expect(closed.body.error).toMatchObject({ code: 'WEBHOOK_UNREACHABLE', message: expect.stringMatching(/CONNECTION_REFUSED/) });
    const unknown = await stack.request(account, 'PUT', '/api/v1/webhook', { url: 'http://no-such-host.invalid/hooks' });
    expect(unknown.body.error.code).toBe('DNS_NOT_FOUND');
  });

  it.each([
    [{ url: 'not a url' }, 'VALIDATION_FAILED'],
    [{ url: 'ftp://example.com/x' }, 'VALIDATION_FAILED'],
    [{ url: receiverUrlWithCredentials() }, 'WEBHOOK_URL_CREDENTIALS'],
    [{}, 'VALIDATION_FAILED'],
  ])('answers 400 for %j', async (body, code) => {
    const response = await stack.request(account, 'PUT', '/api/v1/webhook', body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
  });

  it('needs the settings right', async () => {
    const events = await stack.createAccount({ rights: 'events' });
    const response = await stack.request(events, 'PUT', '/api/v1/webhook', { url: receiver.url });
    expect(response.status).toBe(403);
  });
});

function receiverUrlWithCredentials(): string {
  return 'http://user:pass@127.0.0.1:1/hooks';
}

describe('GET, DELETE and resume', () => {
  it('answers 404 with a code when no webhook is set, and DELETE removes it', async () => {
    const account = await stack.createAccount();
    expect((await stack.request(account, 'GET', '/api/v1/webhook')).body.error.code).toBe('WEBHOOK_NOT_SET');
    await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url });
    expect((await stack.request(account, 'DELETE', '/api/v1/webhook')).status).toBe(204);
    expect((await stack.request(account, 'GET', '/api/v1/webhook')).status).toBe(404);
  });

  it('refuses to resume an active webhook', async () => {
    const account = await stack.createAccount();
    await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url });
    const response = await stack.request(account, 'POST', '/api/v1/webhook/resume');
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('WEBHOOK_NOT_SUSPENDED');
  });
});

describe('production mode', () => {
  it('requires https and refuses hosts that resolve to loopback or private addresses', async () => {
    const production = await startTestStack({ background: false, env: { SATELLITE_PRODUCTION: 'true', WEBHOOK_TIMEOUT_MS: '1000' } });
    try {
      const account = await production.createAccount();
      const plain = await production.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url });
      expect(plain.status).toBe(400);
      expect(plain.body.error.code).toBe('WEBHOOK_URL_SCHEME');
      for (const url of [
        'https://127.0.0.1/hooks',
        'https://localhost/hooks',
        'https://10.0.0.8/hooks',
        'https://[::1]/hooks',
        'https://169.254.169.254/latest',
      ]) {
        const refused = await production.request(account, 'PUT', '/api/v1/webhook', { url });
        expect({ url, status: refused.status, code: refused.body.error.code }).toEqual({ url, status: 422, code: 'DESTINATION_NOT_ALLOWED' });
      }
    } finally {
      await production.stop();
    }
  });
});
