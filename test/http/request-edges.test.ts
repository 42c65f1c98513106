import { connect as connectSocket } from 'node:net';
import { GATEWAY_MAX_HEAD_BYTES } from '../../local/http-gateway';
import { closeConnectorPools } from '../../shared/connectors/postgres-pools';
import { createCustomerDatabase, type CustomerDatabase } from '../support/customer-postgres';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

let stack: TestStack;
let account: TestAccount;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
});
afterAll(async () => {
  await closeConnectorPools(stack.platform);
  await stack.stop();
});

const postBytes = (path: string, bytes: Buffer) =>
  fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { authorization: account.authorization, 'content-type': 'application/json' },
    body: bytes,
  });
const json = (text: string, ...bytes: number[][]) =>
  Buffer.concat(
    text.split('%BYTES%').flatMap((part, index) => (index === 0 ? [Buffer.from(part)] : [Buffer.from(bytes[index - 1]!), Buffer.from(part)])),
  );
const contactsNamed = async (externalCustomerId: string) =>
  (
    await stack.platform.db.query('SELECT count(*)::int AS n FROM contacts WHERE account_id = $1 AND external_customer_id = $2', [
      account.accountId,
      externalCustomerId,
    ])
  ).rows[0].n as number;

describe('a JSON body that is not valid UTF-8', () => {
  it('is refused with 400 naming the field, and nothing is stored (no U+FFFD in its place)', async () => {
    for (const [bytes, what] of [
      [[0xff], 'a byte that never starts UTF-8'],
      [[0xc3], 'a sequence cut short'],
      [[0xc0, 0xaf], 'an overlong encoding'],
      [[0xed, 0xa0, 0x80], 'an encoded surrogate'],
    ] as const) {
      const response = await postBytes('/api/v1/contact', json('{"externalCustomerId":"utf8-bad","firstName":"Ann%BYTES%a"}', [...bytes]));
      const body = (await response.json()) as { error: { code: string; details: unknown } };
      expect([what, response.status, body.error.code, body.error.details]).toEqual([
        what,
        400,
        'VALIDATION_FAILED',
        [{ path: 'body.firstName', message: 'is not valid UTF-8' }],
      ]);
    }
    const nested = await postBytes('/api/v1/contact', json('{"externalCustomerId":"utf8-bad","fields":[{"id":1,"value":"x%BYTES%"}]}', [0xfe]));
    expect(((await nested.json()) as any).error.details).toEqual([{ path: 'body.fields.0.value', message: 'is not valid UTF-8' }]);
    const outside = await postBytes('/api/v1/contact', json('{"externalCustomerId":"utf8-bad"%BYTES%}', [0xff]));
    expect([outside.status, ((await outside.json()) as any).error.details]).toEqual([400, [{ path: 'body', message: 'is not valid UTF-8' }]]);
    expect(await contactsNamed('utf8-bad')).toBe(0);
  });

  it('still takes U+FFFD and any other character written as valid UTF-8', async () => {
    const response = await postBytes(
      '/api/v1/contact',
      Buffer.from(JSON.stringify({ externalCustomerId: 'utf8-good', firstName: 'Ann \ufffd Олена 😀' })),
    );
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: number };
    expect((await stack.request(account, 'GET', `/api/v1/contact/${id}`)).body.firstName).toBe('Ann \ufffd Олена 😀');
  });
});

describe('a request head past the gateway quota (local runtime)', () => {
  it('answers a long query string 414 in the error model, with x-request-id, not a bare 431', async () => {
    const response = await fetch(`${stack.url}/api/v1/contacts?email=${'a'.repeat(16 * 1024)}`, {
      headers: { authorization: account.authorization },
    });
    expect(response.status).toBe(414);
    expect(response.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
    expect(await response.json()).toEqual({ error: { code: 'URI_TOO_LONG', message: expect.stringContaining(String(GATEWAY_MAX_HEAD_BYTES)) } });
  });

  it('answers oversized headers 431 in the error model, also past what Node itself would read', async () => {
    const response = await fetch(`${stack.url}/api/v1/version`, {
      headers: { authorization: account.authorization, 'x-padding': 'p'.repeat(12 * 1024) },
    });
    expect([response.status, ((await response.json()) as any).error.code]).toEqual([431, 'HEADERS_TOO_LARGE']);
    expect(response.headers.get('x-request-id')).toBeTruthy();

    // 2 MB of headers: Node's parser gives up, and the gateway still answers in the error model.
    const raw = await new Promise<string>((resolve, reject) => {
      const url = new URL(stack.url);
      const socket = connectSocket(Number(url.port), url.hostname, () => {
        socket.write(`GET /api/v1/version HTTP/1.1\r\nhost: ${url.host}\r\nx-padding: ${'p'.repeat(2 * 1024 * 1024)}\r\n\r\n`);
      });
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('utf8')));
      socket.on('end', () => resolve(received));
      socket.on('error', (error) => (received ? resolve(received) : reject(error)));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    expect(raw).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String) } });
  });
});

describe('a connector read with GET', () => {
  let customer: CustomerDatabase;
  beforeAll(async () => {
    customer = await createCustomerDatabase(stack);
  });
  afterAll(() => customer.drop());

  it('can be sent back to PUT as it came, with a field changed (settings nested under postgres)', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/connectors', customer.connectorSettings({ name: 'Round trip' }));
    expect(created.status).toBe(201);
    const read = await stack.request(account, 'GET', `/api/v1/connectors/${created.body.id}`);
    expect(read.body.postgres).toMatchObject({ host: expect.any(String), port: expect.any(Number) });

    const renamed = await stack.request(account, 'PUT', `/api/v1/connectors/${created.body.id}`, { ...read.body, name: 'Round trip, renamed' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ ...read.body, name: 'Round trip, renamed', updatedAt: expect.any(String) });

    const moved = await stack.request(account, 'PUT', `/api/v1/connectors/${created.body.id}`, {
      ...read.body,
      postgres: { ...read.body.postgres, sslMode: 'require' },
    });
    expect([moved.status, moved.body.error.code]).toEqual([400, 'PASSWORD_REQUIRED']);
    const twoWays = await stack.request(account, 'PUT', `/api/v1/connectors/${created.body.id}`, { ...read.body, port: 1 });
    expect([twoWays.status, twoWays.body.error.details[0].path]).toEqual([400, 'body.postgres.port']);
    const other = await stack.request(account, 'PUT', `/api/v1/connectors/${created.body.id}`, { ...read.body, id: created.body.id + 1000 });
    expect([other.status, other.body.error.details[0].path]).toEqual([400, 'body.id']);
    // The flat shape keeps working.
    const flat = await stack.request(account, 'PUT', `/api/v1/connectors/${created.body.id}`, {
      ...customer.connectorSettings({ name: 'Flat' }),
      password: undefined,
    });
    expect(flat.status).toBe(200);
  });
});
