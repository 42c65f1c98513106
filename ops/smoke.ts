/**
 * `npm run smoke -- <api-url> <api-key>`: a post-deploy check of the seeds' main paths against
 * a live stack, with an account's API key. It writes one contact (external ID `smoke-<time>`),
 * one event, and deletes the contact again (soft delete, seed 002); nothing else changes.
 * Exits 1 on the first failed check. `test/ops/smoke.test.ts` runs it against the local stack.
 */

export interface SmokeCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

class SmokeFailure extends Error {}

/** A field of a JSON answer, `undefined` when any step is missing. */
function field(json: unknown, ...keys: string[]): unknown {
  let value = json;
  for (const key of keys) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

export async function runSmoke(apiUrl: string, apiKey: string, report: (check: SmokeCheck) => void = () => undefined): Promise<SmokeCheck[]> {
  const base = apiUrl.replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`smoke:${apiKey}`).toString('base64')}`;
  const checks: SmokeCheck[] = [];

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; json: unknown }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json };
  }

  async function check(name: string, step: () => Promise<string | undefined>): Promise<void> {
    try {
      const detail = await step();
      checks.push({ name, ok: true, ...(detail ? { detail } : {}) });
      report(checks[checks.length - 1]!);
    } catch (error) {
      checks.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
      report(checks[checks.length - 1]!);
      throw new SmokeFailure(name);
    }
  }

  const expectStatus = (answer: { status: number; json: unknown }, wanted: number[], what: string) => {
    if (!wanted.includes(answer.status)) throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.json ?? '').slice(0, 300)}`);
  };

  const externalCustomerId = `smoke-${Date.now()}`;
  let contactId = 0;
  try {
    await check('GET /api/v1/version answers the version', async () => {
      const answer = await call('GET', '/api/v1/version');
      expectStatus(answer, [200], 'version');
      if (field(answer.json, 'protocolVersion') !== 'v1') throw new Error('no protocolVersion v1');
      return String(field(answer.json, 'version'));
    });
    await check('OAuth metadata names the issuer (PUBLIC_BASE_URL)', async () => {
      const answer = await call('GET', '/.well-known/oauth-authorization-server');
      expectStatus(answer, [200], 'metadata');
      const issuer = field(answer.json, 'issuer');
      if (typeof issuer !== 'string' || !issuer.startsWith('http')) throw new Error('no issuer');
      return issuer;
    });
    await check('the API key authenticates (a wrong one is refused)', async () => {
      const refused = await fetch(`${base}/api/v1/contacts?maxrows=1`, {
        headers: { authorization: `Basic ${Buffer.from('smoke:not-a-key').toString('base64')}` },
      });
      if (refused.status !== 401) throw new Error(`a wrong key got HTTP ${refused.status}`);
      return undefined;
    });
    await check('POST /api/v1/contact adds a contact by externalCustomerId', async () => {
      const answer = await call('POST', '/api/v1/contact', {
        externalCustomerId,
        firstName: 'Smoke',
        channels: [{ type: 'email', value: `${externalCustomerId}@example.com` }],
      });
      expectStatus(answer, [200, 201], 'add');
      contactId = Number(field(answer.json, 'id'));
      if (!(contactId > 0)) throw new Error('no contact id');
      return `id ${contactId}`;
    });
    await check('the same externalCustomerId updates that contact (seed 002)', async () => {
      const answer = await call('POST', '/api/v1/contact', { externalCustomerId, firstName: 'Smoke again' });
      expectStatus(answer, [200, 201], 'update');
      if (Number(field(answer.json, 'id')) !== contactId) throw new Error(`got id ${String(field(answer.json, 'id'))}, expected ${contactId}`);
      return undefined;
    });
    await check('GET /api/v1/contact/{id} reads it back', async () => {
      const answer = await call('GET', `/api/v1/contact/${contactId}`);
      expectStatus(answer, [200], 'read');
      if (field(answer.json, 'externalCustomerId') !== externalCustomerId) throw new Error('externalCustomerId differs');
      return undefined;
    });
    await check('GET /api/v1/contacts finds it by externalCustomerId alone', async () => {
      const answer = await call('GET', `/api/v1/contacts?externalCustomerId=${encodeURIComponent(externalCustomerId)}`);
      expectStatus(answer, [200], 'search');
      if (answer.headers.get('totalcount') !== '1') throw new Error(`TotalCount ${String(answer.headers.get('totalcount'))}`);
      return undefined;
    });
    await check('POST /api/v1/event records an event', async () => {
      const answer = await call('POST', '/api/v1/event', {
        eventTypeKey: 'smokeTest',
        keyValue: externalCustomerId,
        params: [{ name: 'source', value: 'smoke' }],
      });
      expectStatus(answer, [200, 201, 202, 204], 'event');
      return undefined;
    });
    await check('GET /api/v1/contacts/activity answers for the last day', async () => {
      const dateTo = new Date();
      const dateFrom = new Date(dateTo.getTime() - 24 * 3600 * 1000);
      const answer = await call('GET', `/api/v1/contacts/activity?dateFrom=${dateFrom.toISOString()}&dateTo=${dateTo.toISOString()}`);
      expectStatus(answer, [200], 'activity');
      return undefined;
    });
    await check('errors answer the error model', async () => {
      const answer = await call('GET', '/api/v1/contact/999999999999');
      expectStatus(answer, [404], 'missing contact');
      const code = field(answer.json, 'error', 'code');
      if (typeof code !== 'string') throw new Error('no {"error": {"code"}}');
      return code;
    });
  } catch (error) {
    if (!(error instanceof SmokeFailure)) throw error;
  } finally {
    if (contactId > 0) {
      const deleted = await call('DELETE', `/api/v1/contact/${contactId}`).catch(() => ({ status: 0, json: undefined }));
      checks.push({
        name: 'DELETE /api/v1/contact/{id} removes the smoke contact',
        ok: deleted.status >= 200 && deleted.status < 300,
        detail: `HTTP ${deleted.status}`,
      });
      report(checks[checks.length - 1]!);
    }
  }
  return checks;
}

async function main(): Promise<void> {
  const [apiUrl, apiKey] = process.argv.slice(2);
  if (!apiUrl || !apiKey) {
    process.stderr.write('usage: npm run smoke -- <api-url> <api-key>\n');
    process.exit(2);
  }
  const checks = await runSmoke(apiUrl, apiKey, (check) =>
    process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}${check.detail ? ` (${check.detail})` : ''}\n`),
  );
  const failed = checks.filter((check) => !check.ok).length;
  process.stdout.write(failed === 0 ? `smoke: all ${checks.length} checks passed\n` : `smoke: ${failed} of ${checks.length} checks failed\n`);
  process.exit(failed === 0 ? 0 : 1);
}

if (require.main === module) void main();
