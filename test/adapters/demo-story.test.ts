import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { freePort } from '../../local/free-port';

const ROOT = path.join(__dirname, '..', '..');

/** `npm run demo` as a newcomer runs it: nothing answers yet, so it starts Satellite itself. */
function runDemo(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'local', 'demo-story.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run demo', () => {
  it("tells the seeds' story end to end against a Satellite it starts, and exits 0", async () => {
    const { code, output } = await runDemo({ SATELLITE_URL: `http://127.0.0.1:${await freePort()}` });
    expect({ code, tail: output.slice(-1500) }).toEqual({ code: 0, tail: expect.stringContaining('The whole story ran.') });
    expect(output).toContain('Check connection: PostgreSQL');
    expect(output).toContain('warning NOT_SSL');
    expect(output).toContain('Members: kozak@example.com');
    expect(output).toContain('Dina would read: <p>Happy birthday, Dina Kozak! Your code: AAAA-BBBB-DDDD</p>');
    expect(output).toMatch(/jsonParam = \{"\d+":\[\{"id":"2","email":"kozak@example.com","name":"Dina Kozak",.*"promo_code":"AAAA-BBBB-DDDD"\}\]\}/);
    expect(output).toContain('received: CLICKED email for kozak@example.com');
    expect(output).toMatch(/\d+ \| kozak@example.com \| Dina/);
    expect(output).toContain('→ 403 {"error":{"code":"INSUFFICIENT_SCOPE"');
    // Secrets stay out of what a person might paste into a ticket.
    expect(output).not.toMatch(/"(password|clientSecret|access_token)":"[^…]/);
  }, 420_000);

  it('exits non-zero, saying which step failed, when a step does not go as the story says', async () => {
    // Something answers where Satellite should, and refuses the key the demo was given.
    const server = createServer((request, response) => {
      if (request.url === '/api/v1/openapi.json') response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"UNAUTHORIZED","message":"authentication required"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { code, output } = await runDemo({ SATELLITE_URL: url, SATELLITE_API_KEY: 'sk_not_a_key', SATELLITE_DEMO_PASSWORD: 'unused' });
      expect(code).toBe(1);
      expect(output).toContain('✗ POST /api/v1/connectors/validate answered 401, expected 200');
    } finally {
      server.close();
    }
  }, 420_000);
});
