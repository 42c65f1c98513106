import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { apiRoutes } from '../../functions/api/routes';
import { rights } from '../../shared/accounts/rights';
import { apiDocument, contractBreach } from '../support/openapi-contract';
import { startTestStack, type TestStack } from '../support/stack';

const ROOT = path.join(__dirname, '..', '..');

/** The maintained OpenAPI schema validator; it ships as ES modules only, so it runs in a node of its own. */
function validateWithOpenApiSchema(document: unknown): { valid: boolean; version: string; errors?: unknown } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'satellite-openapi-')), 'openapi.json');
  writeFileSync(file, JSON.stringify(document));
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    import { readFileSync } from 'node:fs';
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(readFileSync(${JSON.stringify(file)}, 'utf8')));
    process.stdout.write(JSON.stringify({ ...result, version: validator.version }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as { valid: boolean; version: string; errors?: unknown };
}

type Operation = (typeof apiDocument.paths)[string][string];
const operations = (): [string, string, Operation][] =>
  Object.entries(apiDocument.paths).flatMap(([route, methods]) =>
    Object.entries(methods).map(([method, operation]) => [method.toUpperCase(), route, operation] as [string, string, Operation]),
  );

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', () => {
    const result = validateWithOpenApiSchema(apiDocument);
    expect(result.errors).toBeUndefined();
    expect(result).toMatchObject({ valid: true, version: '3.1' });
  });

  it("has one operation for each of the router's routes, and no other", () => {
    const routed = apiRoutes.map((route) => `${route.method} ${route.path}`).sort();
    const documented = operations()
      .map(([method, route]) => `${method} ${route}`)
      .sort();
    expect(documented).toEqual(routed);
  });

  it('gives every operation a summary, a success answer and the error shape', () => {
    for (const [method, route, operation] of operations()) {
      const statuses = Object.keys(operation.responses);
      expect({ route: `${method} ${route}`, success: statuses.some((status) => /^[23]\d\d$/.test(status)) }).toEqual({
        route: `${method} ${route}`,
        success: true,
      });
      expect(operation.summary).toEqual(expect.any(String));
      expect(operation.responses.default?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
    }
  });

  it('states the limits the API enforces, from the same schemas', () => {
    const contactBody = apiDocument.paths['/api/v1/contact']!.post!.requestBody as {
      content: { 'application/json': { schema: { properties: Record<string, { maxLength?: number }> } } };
    };
    expect(contactBody.content['application/json'].schema.properties.firstName).toMatchObject({ type: 'string', maxLength: 50 });
    const search = apiDocument.paths['/api/v1/contacts']!.get!.parameters as { name: string; description?: string; schema: { default?: string } }[];
    expect(search.find((parameter) => parameter.name === 'maxrows')).toMatchObject({
      description: 'A whole number from 1 to 500.',
      schema: { default: '500' },
    });
    const smartsend = JSON.stringify(apiDocument.paths['/api/v1/message/{id}/smartsend']!.post!.requestBody);
    expect(smartsend).toContain('"maxItems":1000');
  });

  it("describes authentication: HTTP Basic API keys and OAuth 2.0's code flow with the seed's scopes, per method group", () => {
    const components = apiDocument.components as {
      securitySchemes: Record<
        string,
        { type: string; scheme?: string; flows?: { authorizationCode: { scopes: Record<string, string>; tokenUrl: string } } }
      >;
    };
    expect(components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(Object.keys(components.securitySchemes.oauth2!.flows!.authorizationCode.scopes).sort()).toEqual([...rights].sort());
    expect(components.securitySchemes.oauth2!.flows!.authorizationCode.tokenUrl).toMatch(/\/oauth\/token$/);

    const read = apiDocument.paths['/api/v1/contact/{id}']!.get!;
    expect(read['x-method-group']).toBe('contactsRead');
    expect(read.security).toEqual(expect.arrayContaining([{ apiKey: [] }, { oauth2: ['eventsAndContacts'] }, { oauth2: ['fullApi'] }]));
    expect(read.security).not.toContainEqual({ oauth2: ['messages'] });
    // Credentials are the account's own: no scope opens them to a partner app.
    expect(apiDocument.paths['/api/v1/api-keys']!.post!.security).toEqual([{ apiKey: [] }]);
    expect(apiDocument.paths['/oauth/token']!.post!.security).toEqual([]);
  });

  it('lists the error codes a route answers, in the error shape', () => {
    const update = apiDocument.paths['/api/v1/contact/{id}']!.put!.responses;
    expect(update['409']?.description).toContain('EXTERNAL_ID_TAKEN');
    expect(update['404']?.description).toContain('CONTACT_NOT_FOUND');
    expect(update['400']?.description).toContain('VALIDATION_FAILED');
    expect(update['429']).toBeDefined();
    const examples = (update['409']?.content?.['application/json'] as { examples: Record<string, { value: unknown }> }).examples;
    expect(examples.EXTERNAL_ID_TAKEN?.value).toEqual({ error: { code: 'EXTERNAL_ID_TAKEN', message: expect.any(String) } });
  });

  it('describes the activity webhook with the Standard Webhooks headers', () => {
    const webhooks = apiDocument.webhooks as Record<string, { post?: { parameters: { name: string; in: string }[]; requestBody: unknown } }>;
    const activities = webhooks.activities!.post!;
    expect(activities.parameters.map((parameter) => `${parameter.in}:${parameter.name}`)).toEqual([
      'header:webhook-id',
      'header:webhook-timestamp',
      'header:webhook-signature',
    ]);
    expect(JSON.stringify(activities.requestBody)).toContain('"activityStatus"');
  });

  it('catches an answer that breaks it', () => {
    const answer = (text: string, status = 200) => ({ status, contentType: 'application/json', text });
    expect(contractBreach('GET', '/api/v1/version', answer('{"version":"1.0.0","protocolVersion":"v1"}'))).toBeUndefined();
    expect(contractBreach('GET', '/api/v1/version', answer('{"version":"1.0.0"}'))).toContain("must have required property 'protocolVersion'");
    expect(contractBreach('DELETE', '/api/v1/contact/1', answer('', 201))).toContain('does not list');
    expect(contractBreach('GET', '/api/v1/contact/1', answer('{"message":"no"}', 404))).toContain('breaks the document');
  });
});

describe('the document and the reference page, served', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ background: false });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('serves the document at /api/v1/openapi.json without credentials, naming this server', async () => {
    const answer = await stack.request(undefined, 'GET', '/api/v1/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.1');
    expect(answer.body.servers).toEqual([{ url: stack.platform.config.publicBaseUrl!.replace(/\/+$/, '') }]);
    expect(Object.keys(answer.body.paths)).toEqual(Object.keys(apiDocument.paths));
  });

  it('serves a reference page at /docs under a CSP that allows no inline script and no other origin', async () => {
    const page = await stack.request(undefined, 'GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(page.text).not.toMatch(/<script>[^<]/);
    const scripts = [...page.text.matchAll(/<(?:script src|link rel="stylesheet" href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(scripts).toEqual(['/docs/assets/swagger-ui.css', '/docs/assets/swagger-ui-bundle.js', '/docs/reference.js']);
    for (const asset of scripts) {
      const file = await stack.request(undefined, 'GET', asset);
      expect({ asset, status: file.status }).toEqual({ asset, status: 200 });
    }
    const bundle = await stack.request(undefined, 'GET', '/docs/assets/swagger-ui-bundle.js');
    expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(bundle.text).toContain('SwaggerUIBundle');
    const start = await stack.request(undefined, 'GET', '/docs/reference.js');
    expect(start.text).toContain("url: '/api/v1/openapi.json'");
  });

  it('serves only the files it names', async () => {
    const answer = await stack.request(undefined, 'GET', '/docs/assets/..%2Fpackage.json');
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
  });
});
