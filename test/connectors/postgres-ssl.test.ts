import { startHttpGateway } from '../../local/http-gateway';
import { closeConnectorPools } from '../../shared/connectors/postgres-pools';
import { createHandler as createValidatorHandler } from '../../functions/validate-connector/handler';
import { startSslPostgres, type SslPostgres } from '../support/customer-postgres';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

let stack: TestStack;
let account: TestAccount;
let sslOnly: SslPostgres;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
  sslOnly = await startSslPostgres({ requireSsl: true });
}, 120_000);
afterAll(async () => {
  await closeConnectorPools(stack.platform);
  await sslOnly?.stop();
  await stack.stop();
});

function settings(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: 'postgres',
    host: 'localhost',
    port: sslOnly.port,
    database: 'postgres',
    user: sslOnly.user,
    password: sslOnly.password,
    ...overrides,
  };
}

describe('check connection over SSL', () => {
  it.each(['prefer', 'require'])('connects with sslMode %s and gives no NOT_SSL warning', async (sslMode) => {
    const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', settings({ sslMode }));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true, ssl: true });
    expect(response.body.warnings.map((warning: { code: string }) => warning.code)).not.toContain('NOT_SSL');
  });

  it('verifies the certificate and host name with verify-full and the CA', async () => {
    const response = await stack.request(
      account,
      'POST',
      '/api/v1/connectors/validate',
      settings({ sslMode: 'verify-full', caCertificate: sslOnly.caCertificate }),
    );
    expect(response.status).toBe(200);
    expect(response.body.ssl).toBe(true);
  });

  it.each([
    ['an untrusted CA', { sslMode: 'verify-full' }, false],
    ['a host name the certificate does not name', { sslMode: 'verify-full', host: '127.0.0.1' }, true],
  ])('answers CERTIFICATE_REJECTED for %s', async (_, overrides, withCa) => {
    const body = settings({ ...overrides, ...(withCa ? { caCertificate: sslOnly.caCertificate } : {}) });
    const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', body);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('CERTIFICATE_REJECTED');
  });

  it('answers SSL_REQUIRED when the server refuses plain connections', async () => {
    const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', settings({ sslMode: 'disable' }));
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('SSL_REQUIRED');
  });

  it('refuses a CA certificate without verify-full', async () => {
    const response = await stack.request(
      account,
      'POST',
      '/api/v1/connectors/validate',
      settings({ sslMode: 'require', caCertificate: sslOnly.caCertificate }),
    );
    expect(response.status).toBe(400);
    expect(response.body.error.details[0].path).toBe('body.caCertificate');
  });

  it('is served the same by the validate-connector Lambda on its own', async () => {
    const gateway = await startHttpGateway(
      createValidatorHandler(() => Promise.resolve(stack.platform)),
      0,
    );
    try {
      const response = await fetch(`${gateway.url}/api/v1/connectors/validate`, {
        method: 'POST',
        headers: { authorization: account.authorization, 'content-type': 'application/json' },
        body: JSON.stringify(settings({ sslMode: 'verify-full', caCertificate: sslOnly.caCertificate })),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ ok: true, kind: 'postgres', ssl: true });
      // Only the check lives there: the rest of the API is not part of that function.
      expect((await fetch(`${gateway.url}/api/v1/connectors`, { headers: { authorization: account.authorization } })).status).toBe(404);
    } finally {
      gateway.server.closeAllConnections();
      await new Promise((resolve) => gateway.server.close(resolve));
    }
  });
});
