import * as z from 'zod';
import { createApiHandler } from '../../shared/http/api-handler';
import { created, route } from '../../shared/http/route';
import { resolveAccessToken } from '../../shared/oauth/access-tokens';
import { startHttpGateway } from '../../local/http-gateway';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

let stack: TestStack;
let account: TestAccount;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
});
afterAll(() => stack.stop());

describe('version', () => {
  it.each(['/api/v1/version', '/api/v2/version'])('answers %s with the version and protocol', async (path) => {
    const response = await stack.request(account, 'GET', path);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ version: expect.any(String), protocolVersion: 'v1' });
    expect(response.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
    // As API Gateway answers: with its length, not in chunks.
    expect(response.headers.get('transfer-encoding')).toBeNull();
    expect(Number(response.headers.get('content-length'))).toBe(JSON.stringify(response.body).length);
  });
});

describe('authentication', () => {
  it('accepts any user name with the API key as password', async () => {
    const header = `Basic ${Buffer.from(`whoever:${account.apiKey}`).toString('base64')}`;
    const response = await stack.request(undefined, 'GET', '/api/v1/version', undefined, { authorization: header });
    expect(response.status).toBe(200);
  });

  it.each([
    ['no header', {}],
    ['a wrong key', { authorization: `Basic ${Buffer.from('x:sk_wrong').toString('base64')}` }],
    ['a malformed header', { authorization: 'Basic' }],
    ['an unknown scheme', { authorization: 'Digest abc' }],
    ['an unknown bearer token', { authorization: 'Bearer nope' }],
  ])('answers 401 in the error model for %s, saying nothing about accounts', async (_, headers) => {
    const response = await stack.request(undefined, 'GET', '/api/v1/version', undefined, headers);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toMatch(/UNAUTHORIZED|INVALID_TOKEN/);
    expect(response.text).not.toMatch(/account/i);
  });

  it('does not let a revoked key in', async () => {
    const other = await stack.createAccount();
    await stack.platform.db.query('UPDATE api_keys SET revoked_at = now() WHERE account_id = $1', [other.accountId]);
    expect((await stack.request(other, 'GET', '/api/v1/version')).status).toBe(401);
  });
});

describe('the error model', () => {
  it('answers unknown routes 404 with a code', async () => {
    const response = await stack.request(account, 'GET', '/api/v1/does-not-exist');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: expect.any(String) } });
  });

  it('answers a known path with the wrong method 405 and names the allowed ones', async () => {
    const response = await stack.request(account, 'DELETE', '/api/v1/version');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(response.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('input validation at the edge', () => {
  // A route of the test's own, through the same handler factory and local API Gateway.
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    await stack.platform.db.query('CREATE TABLE IF NOT EXISTS probe_writes (id serial PRIMARY KEY, name text)');
    const handler = createApiHandler({
      platform: () => Promise.resolve(stack.platform),
      resolveBearer: resolveAccessToken,
      routes: [
        route({
          method: 'POST',
          path: '/probe/{id}',
          access: 'general',
          params: z.object({ id: z.coerce.number().int().positive() }),
          query: z.object({ dryRun: z.enum(['true', 'false']).optional() }).strict(),
          body: z.object({ name: z.string().min(1).max(20) }).strict(),
          handle: async ({ body, platform }) => {
            await platform.db.query('INSERT INTO probe_writes (name) VALUES ($1)', [body.name]);
            return created({ ok: true });
          },
        }),
        route({
          method: 'GET',
          path: '/boom',
          access: 'public',
          handle: async () => {
            throw new Error('relation "secret_table" does not exist at host db.internal');
          },
        }),
      ],
    });
    const gateway = await startHttpGateway(handler, 0);
    url = gateway.url;
    close = () => gateway.server.close();
  });
  afterAll(() => close());

  const post = (path: string, body: string | Buffer, contentType = 'application/json') =>
    fetch(`${url}${path}`, { method: 'POST', headers: { authorization: account.authorization, 'content-type': contentType }, body });
  const writes = async () => (await stack.platform.db.query('SELECT count(*)::int AS n FROM probe_writes')).rows[0].n as number;

  it('accepts a valid request', async () => {
    const before = await writes();
    expect((await post('/probe/1', JSON.stringify({ name: 'ok' }))).status).toBe(201);
    expect(await writes()).toBe(before + 1);
  });

  it.each([
    ['malformed JSON', '/probe/1', '{"name": ', 'MALFORMED_JSON'],
    ['a wrong type', '/probe/1', JSON.stringify({ name: 42 }), 'VALIDATION_FAILED'],
    ['an unknown field', '/probe/1', JSON.stringify({ name: 'a', admin: true }), 'VALIDATION_FAILED'],
    ['a bad path parameter', '/probe/abc', JSON.stringify({ name: 'a' }), 'VALIDATION_FAILED'],
    ['an unknown query parameter', '/probe/1?drop=1', JSON.stringify({ name: 'a' }), 'VALIDATION_FAILED'],
    ['an empty body', '/probe/1', '', 'BODY_REQUIRED'],
  ])('answers %s with 400 and a code, writing nothing', async (_, path, body, code) => {
    const before = await writes();
    const response = await post(path, body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(await writes()).toBe(before);
  });

  it('refuses text the store cannot keep, and JSON nested absurdly deep, with a 400 naming the field', async () => {
    for (const [value, field] of [
      [{ firstName: 'a\u0000b' }, 'body.firstName'],
      [{ firstName: 'half a pair \ud800' }, 'body.firstName'],
      [{ fields: [{ id: 1, value: 'x\u0000' }] }, 'body.fields.0.value'],
    ] as const) {
      const response = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'nul-1', ...value });
      expect([field, response.status, response.body.error.details]).toEqual([field, 400, [{ path: field, message: expect.any(String) }]]);
    }
    const deep = JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`) as unknown;
    const nested = await stack.request(account, 'POST', '/api/v1/groups', { name: 'deep', conditions: [deep] });
    expect(nested.status).toBe(400);
    expect((await stack.request(account, 'GET', '/api/v1/contacts?email=a%00b')).status).toBe(400);
  });

  it('reads ids and counts in paths and queries as digits only, and refuses parameters a method does not know', async () => {
    for (const written of ['%201', '0x1', '1e3', '1.0', '-1']) {
      const response = await stack.request(account, 'GET', `/api/v1/contact/${written}`);
      expect([written, response.status, response.body.error.details?.[0]?.path]).toEqual([written, 400, 'path.id']);
    }
    expect((await stack.request(account, 'GET', '/api/v1/contacts?maxrows=1e2')).status).toBe(400);
    const misspelt = await stack.request(account, 'GET', '/api/v1/datasources?connectorID=3');
    expect(misspelt.status).toBe(400);
  });

  it('takes a cookie that is not valid percent-encoding as it came', async () => {
    const response = await stack.request(account, 'GET', '/api/v1/version', undefined, { cookie: 'tracker=100%; other=%E0%A4%A' });
    expect(response.status).toBe(200);
  });

  it('names the offending fields', async () => {
    const response = await post('/probe/1', JSON.stringify({ name: '' }));
    const body = (await response.json()) as { error: { details: { path: string }[] } };
    expect(body.error.details.map((detail) => detail.path)).toContain('body.name');
  });

  it('answers a non-JSON content type 415', async () => {
    const response = await post('/probe/1', 'name=a', 'application/x-www-form-urlencoded');
    expect(response.status).toBe(415);
  });

  it('answers a huge body 413 without writing', async () => {
    const before = await writes();
    const response = await post('/probe/1', JSON.stringify({ name: 'x'.repeat(7 * 1024 * 1024) }));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await writes()).toBe(before);
  });

  it('answers an unexpected failure 500 without internals, and logs it under its request id', async () => {
    const logged: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    };
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${url}/boom`);
      text = await response.text();
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(response.status).toBe(500);
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(text).not.toMatch(/secret_table|db\.internal/);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    // The internals go to the log, under the id the caller was given to quote.
    const line = logged.find((entry) => entry.includes('unhandled error'));
    expect(line).toContain(requestId);
    expect(line).toMatch(/secret_table|db\.internal/);
  });
});

describe('rate limiting', () => {
  it('answers 429 with retry-after past the per-account rate, and other accounts are unaffected', async () => {
    // A stopped clock: the bucket never refills, so exactly the burst gets through.
    const frozen = new Date('2026-01-01T00:00:00Z');
    const limited = await startTestStack({ background: false, env: { RATE_LIMIT_PER_SECOND: '3' }, clock: { now: () => frozen } });
    try {
      const busy = await limited.createAccount();
      const quiet = await limited.createAccount();
      const statuses: number[] = [];
      for (let index = 0; index < 4; index += 1) statuses.push((await limited.request(busy, 'GET', '/api/v1/version')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await limited.request(busy, 'GET', '/api/v1/version');
      expect(refused.body.error.code).toBe('RATE_LIMITED');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await limited.request(quiet, 'GET', '/api/v1/version')).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});
