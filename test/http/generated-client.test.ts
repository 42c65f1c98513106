import { spawnSync } from 'node:child_process';
import createClient from 'openapi-fetch';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { apiDocument } from '../support/openapi-contract';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

const ROOT = path.join(__dirname, '..', '..');

/** What a client author writes against the generated types: it must type-check, and misuse must not. */
const clientProgram = (types: string) => `
import createClient from ${JSON.stringify(path.join(ROOT, 'node_modules', 'openapi-fetch'))};
import type { paths } from ${JSON.stringify(types)};

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:3000', headers: { authorization: 'Basic …' } });

export async function story(): Promise<string> {
  const version = await client.GET('/api/v1/version');
  const protocol: 'v1' | undefined = version.data?.protocolVersion;
  const saved = await client.POST('/api/v1/contact', { body: { firstName: 'Olena', channels: [{ type: 'email', value: 'olena@example.com' }] } });
  const id: number | undefined = saved.data?.id;
  const contact = await client.GET('/api/v1/contact/{id}', { params: { path: { id: String(id) } } });
  const email: string | undefined = contact.data?.channels[0]?.value;
  const code: string | undefined = contact.error?.error.code;
  const search = await client.GET('/api/v1/contacts', { params: { query: { email: 'olena@example.com', maxrows: '10' } } });
  const found: number | undefined = search.data?.length;
  // @ts-expect-error firstName is text in the contract
  await client.POST('/api/v1/contact', { body: { firstName: 42 } });
  // @ts-expect-error no such route
  await client.GET('/api/v1/contactz');
  return [protocol, email, code, found].join();
}
`;

describe('a client generated from the document (openapi-typescript + openapi-fetch)', () => {
  let stack: TestStack;
  let account: TestAccount;

  beforeAll(async () => {
    stack = await startTestStack({ background: false });
    account = await stack.createAccount();
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('generates types a strict TypeScript program type-checks against, refusing misuse', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'satellite-client-'));
    writeFileSync(path.join(folder, 'openapi.json'), JSON.stringify(apiDocument));
    // As a client author runs it (its CLI is ES modules only, so not loaded into jest).
    const generator = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
        path.join(folder, 'openapi.json'),
        '-o',
        path.join(folder, 'satellite.ts'),
      ],
      { encoding: 'utf8' },
    );
    expect({ status: generator.status, stderr: generator.status === 0 ? '' : generator.stderr }).toEqual({ status: 0, stderr: '' });
    writeFileSync(path.join(folder, 'client.ts'), clientProgram('./satellite'));
    const program = ts.createProgram([path.join(folder, 'client.ts')], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      skipLibCheck: true,
      types: [],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    expect(problems).toEqual([]);
  }, 120_000);

  it('drives calls through the generated client', async () => {
    const client = createClient<GeneratedPaths>({ baseUrl: stack.url, headers: { authorization: account.authorization } });

    const version = await client.GET('/api/v1/version');
    expect(version.data).toEqual({ version: expect.any(String), protocolVersion: 'v1' });

    const saved = await client.POST('/api/v1/contact', {
      body: { firstName: 'Olena', externalCustomerId: 'crm-7', channels: [{ type: 'email', value: 'olena@example.com' }] },
    });
    expect(saved.response.status).toBe(200);
    const id = saved.data!.id;

    const contact = await client.GET('/api/v1/contact/{id}', { params: { path: { id: String(id) } } });
    expect(contact.data).toMatchObject({ id, firstName: 'Olena', externalCustomerId: 'crm-7' });

    const search = await client.GET('/api/v1/contacts', { params: { query: { externalCustomerId: 'crm-7' } } });
    expect(search.data?.map((found) => found.id)).toEqual([id]);
    expect(search.response.headers.get('TotalCount')).toBe('1');

    const missing = await client.GET('/api/v1/contact/{id}', { params: { path: { id: '999999999' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('CONTACT_NOT_FOUND');

    const refused = await client.POST('/api/v1/contact', { body: { firstName: 'x'.repeat(51) } });
    expect(refused.response.status).toBe(400);
    expect(refused.error?.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'body.firstName' }] });
  });
});

/** The slice of the generated `paths` these calls use, as openapi-typescript writes it (the first test checks the real one). */
interface ContactAnswer {
  id: number;
  firstName: string | null;
  externalCustomerId: string | null;
}
interface ErrorAnswer {
  error: { code: string; message: string; details?: { path?: string; message: string }[] };
}
interface GeneratedPaths {
  '/api/v1/version': { get: { responses: { 200: { content: { 'application/json': { version: string; protocolVersion: 'v1' } } } } } };
  '/api/v1/contact': {
    post: {
      requestBody: {
        content: { 'application/json': { firstName?: string; externalCustomerId?: string; channels?: { type: 'email'; value: string }[] } };
      };
      responses: { 200: { content: { 'application/json': { id: number } } }; 400: { content: { 'application/json': ErrorAnswer } } };
    };
  };
  '/api/v1/contact/{id}': {
    get: {
      parameters: { path: { id: string } };
      responses: { 200: { content: { 'application/json': ContactAnswer } }; 404: { content: { 'application/json': ErrorAnswer } } };
    };
  };
  '/api/v1/contacts': {
    get: { parameters: { query?: { externalCustomerId?: string } }; responses: { 200: { content: { 'application/json': ContactAnswer[] } } } };
  };
}
