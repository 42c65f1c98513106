import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { Webhook } from 'standardwebhooks';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres';
import { freePort } from './free-port';

/**
 * `npm run demo`: the seeds' story, told step by step against a running `npm start` (or one it
 * starts itself when nothing answers at SATELLITE_URL), as a person would do it with curl. The
 * customer's PostgreSQL is a second embedded server holding seed 000's `promo_codes` table, so
 * nothing needs installing. Any step that does not answer as the story says ends the demo with
 * exit code 1.
 */

const ROOT = path.join(__dirname, '..');
const baseUrl = (process.env.SATELLITE_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const stateDir = path.resolve(process.env.SATELLITE_STATE_DIR ?? path.join(ROOT, '.satellite'));
const SEED_TABLE = `
  CREATE TABLE promo_codes (id integer PRIMARY KEY, email text, name text, birthday timestamptz, promo_code text);`;

interface Credentials {
  readonly apiKey: string;
  readonly email: string;
  readonly password: string;
}

class StepFailed extends Error {}

let stepNumber = 0;
const out = (line = '') => process.stdout.write(`${line}\n`);

function step(title: string, why: string): void {
  stepNumber += 1;
  out();
  out(`── ${stepNumber}. ${title} ${'─'.repeat(Math.max(3, 70 - title.length))}`);
  out(`   ${why}`);
}

function shorten(value: unknown, max = 400): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Secrets the reader should not copy from a terminal into a ticket: shown as `…`. */
function masked(body: unknown): unknown {
  return JSON.parse(
    JSON.stringify(body ?? null, (key, value: unknown) =>
      ['password', 'key', 'client_secret', 'clientSecret', 'secret', 'access_token', 'refresh_token'].includes(key) && typeof value === 'string'
        ? '…'
        : value,
    ),
  );
}

class Api {
  constructor(
    private readonly authorization: string,
    private readonly shownAuth: string,
  ) {}

  /** One call, shown as the curl that makes it, with the answer; a status other than `expect` ends the demo. */
  async call<T = any>(method: string, route: string, body: unknown, expect: number): Promise<T> {
    const shownBody = body === undefined ? '' : ` -H 'content-type: application/json' -d '${shorten(masked(body), 300)}'`;
    out(`   $ curl ${this.shownAuth} -X ${method} ${baseUrl}${route}${shownBody}`);
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { authorization: this.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as T) : (undefined as T);
    out(`   → ${response.status} ${text ? shorten(masked(parsed)) : ''}`);
    if (response.status !== expect) throw new StepFailed(`${method} ${route} answered ${response.status}, expected ${expect}: ${text.slice(0, 500)}`);
    return parsed;
  }

  /** A GET made while waiting for something: not shown, and its answer read as it comes. */
  async peek<T>(route: string): Promise<T> {
    const response = await fetch(`${baseUrl}${route}`, { headers: { authorization: this.authorization } });
    return (await response.json()) as T;
  }
}

async function until<T>(what: string | (() => string), probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new StepFailed(`gave up waiting for ${typeof what === 'string' ? what : what()} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function answering(): Promise<boolean> {
  try {
    return (await fetch(`${baseUrl}/api/v1/openapi.json`)).ok;
  } catch {
    return false;
  }
}

/** `npm start` in a child process with a state folder of its own; its banner says when it is ready. */
async function startSatellite(): Promise<{ child: ChildProcess; credentials: Credentials; stateDir: string; output: () => string }> {
  const ownState = mkdtempSync(path.join(tmpdir(), 'satellite-demo-'));
  // Run as root, PostgreSQL runs as its own user, which must be able to pass through to its data folder.
  chmodSync(ownState, 0o711);
  const port = new URL(baseUrl).port || '80';
  out(`Nothing answers at ${baseUrl}: starting Satellite (npm start) with its state in ${ownState} …`);
  // Its own key and login, written to its state folder: none of the caller's.
  const { SATELLITE_API_KEY: _key, SATELLITE_DEMO_PASSWORD: _password, DATABASE_URL: _database, ...environment } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'local', 'main.ts')], {
    cwd: ROOT,
    env: { ...environment, SATELLITE_STATE_DIR: ownState, PORT: port, PUBLIC_BASE_URL: baseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Should this process die before its cleanup, its Satellite goes with it.
  process.once('exit', () => child.kill('SIGTERM'));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await until(
    'npm start to print its banner',
    async () => {
      if (child.exitCode !== null) throw new StepFailed(`npm start exited with ${child.exitCode}:\n${output.slice(-2000)}`);
      return output.includes('Satellite is running locally.') ? true : undefined;
    },
    180_000,
  );
  return { child, credentials: credentialsIn(ownState, false), stateDir: ownState, output: () => output };
}

function credentialsIn(folder: string, environmentFirst = true): Credentials {
  const read = (file: string, variable: string) =>
    (environmentFirst && process.env[variable]) || readFileSync(path.join(folder, file), 'utf8').trim();
  return {
    apiKey: read('demo-api-key', 'SATELLITE_API_KEY'),
    email: process.env.SATELLITE_DEMO_EMAIL ?? 'demo@example.com',
    password: read('demo-password', 'SATELLITE_DEMO_PASSWORD'),
  };
}

/** The customer's own PostgreSQL: a `shop` database with the seed's table (read-only role) and a `warehouse` for exports. */
async function startCustomerPostgres(): Promise<{
  postgres: RunningPostgres;
  dataDir: string;
  reader: string;
  writer: string;
  password: string;
  warehouse: Pool;
}> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'satellite-demo-customer-'));
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'data'), persistent: false });
  const password = randomBytes(12).toString('hex');
  const admin = new Pool({ connectionString: postgres.url, max: 1 });
  await admin.query(`CREATE ROLE shop_reader LOGIN PASSWORD '${password}'`);
  await admin.query(`CREATE ROLE warehouse_writer LOGIN PASSWORD '${password}'`);
  await admin.query('CREATE DATABASE shop');
  await admin.query('CREATE DATABASE warehouse OWNER warehouse_writer');
  await admin.end();

  const shop = new Pool({ connectionString: postgres.urlFor('shop'), max: 1 });
  await shop.query(SEED_TABLE);
  // Dina's birthday is today (the seed's row is dated 2020-09-02): "birthday today" finds her whatever the date.
  const today = new Date();
  const birthday = `2020-${String(today.getUTCMonth() + 1).padStart(2, '0')}-${String(today.getUTCDate()).padStart(2, '0')}T00:00:00Z`;
  await shop.query(
    `INSERT INTO promo_codes VALUES
       (2, 'kozak@example.com', 'Dina Kozak', $1, 'AAAA-BBBB-DDDD'),
       (3, 'ivan@example.com', 'Ivan Petrenko', '1990-05-17T00:00:00Z', 'CCCC-1111'),
       (4, 'stranger@example.com', 'Stranger', $1, 'DDDD-2222')`,
    [birthday],
  );
  await shop.query('GRANT SELECT ON promo_codes TO shop_reader');
  await shop.end();
  const warehouseAdmin = new Pool({ connectionString: postgres.urlFor('warehouse'), max: 1 });
  // The customer names the schema exports go to, and owns it.
  await warehouseAdmin.query('CREATE SCHEMA satellite AUTHORIZATION warehouse_writer');
  await warehouseAdmin.end();
  const warehouse = new Pool({ connectionString: postgres.urlFor('warehouse'), max: 1 });
  // The server stops at the end with this pool's connection maybe still closing: expected, not news.
  warehouse.on('error', () => undefined);
  return { postgres, dataDir, reader: 'shop_reader', writer: 'warehouse_writer', password, warehouse };
}

/** A webhook receiver of the customer's: answers the verification GET, checks each POST's signature, keeps the activities. */
async function startReceiver(): Promise<{
  url: string;
  server: Server;
  received: Record<string, unknown>[];
  useSecret(secret: string): void;
  rejected: string[];
}> {
  const received: Record<string, unknown>[] = [];
  const rejected: string[] = [];
  let verifier: Webhook | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST') {
        const body = Buffer.concat(chunks).toString('utf8');
        try {
          verifier?.verify(body, request.headers as Record<string, string>);
          received.push(...(JSON.parse(body) as Record<string, unknown>[]));
        } catch (error) {
          rejected.push(String(error));
        }
      }
      response.writeHead(200).end('ok');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/satellite-webhook`,
    server,
    received,
    rejected,
    useSecret: (secret) => {
      verifier = new Webhook(secret.replace(/^whsec_/, ''));
    },
  };
}

/** The person at the browser: the authorize page's login and consent forms, cookies kept, redirects looked at. */
async function authorizeInBrowser(authorizeUrl: string, credentials: Credentials): Promise<URL> {
  const cookies = new Map<string, string>();
  const send = async (method: string, url: string, form?: Record<string, string>) => {
    const response = await fetch(new URL(url, baseUrl), {
      method,
      redirect: 'manual',
      headers: {
        ...(cookies.size ? { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return { status: response.status, html: await response.text(), location: response.headers.get('location') ?? undefined };
  };
  const submit = (page: { html: string }, fields: Record<string, string>) => {
    const action = /<form method="post" action="([^"]+)"/.exec(page.html)?.[1];
    if (!action) throw new StepFailed(`no form on the page: ${page.html.slice(0, 300)}`);
    const hidden = Object.fromEntries(
      [...page.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((match) => [match[1]!, unescapeHtml(match[2]!)]),
    );
    return send('POST', unescapeHtml(action), { ...hidden, ...fields });
  };

  out(`   (browser) GET ${authorizeUrl}`);
  const login = await send('GET', authorizeUrl);
  if (login.status !== 200) throw new StepFailed(`the authorize page answered ${login.status}`);
  out(`   (browser) the login page; log in as ${credentials.email}`);
  const loggedIn = await submit(login, { email: credentials.email, password: credentials.password });
  if (loggedIn.status !== 303 || !loggedIn.location) throw new StepFailed(`login answered ${loggedIn.status}`);
  const consent = await send('GET', loggedIn.location);
  const scopes = [...consent.html.matchAll(/data-scope="([^"]+)"/g)].map((match) => match[1]);
  out(`   (browser) the consent page asks for: ${scopes.join(', ')}; press Approve`);
  const approved = await submit(consent, { action: 'approve' });
  if (approved.status !== 302 || !approved.location) throw new StepFailed(`consent answered ${approved.status}`);
  out(`   (browser) → 302 ${approved.location.replace(/code=[^&]+/, 'code=…')}`);
  return new URL(approved.location);
}

function unescapeHtml(value: string): string {
  return value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&');
}

async function story(
  credentials: Credentials,
  customer: Awaited<ReturnType<typeof startCustomerPostgres>>,
  receiver: Awaited<ReturnType<typeof startReceiver>>,
): Promise<void> {
  const api = new Api(`Basic ${Buffer.from(`demo:${credentials.apiKey}`).toString('base64')}`, '-u demo:$KEY');
  const run = randomBytes(3).toString('hex');
  const connection = { kind: 'postgres', host: '127.0.0.1', port: customer.postgres.port, sslMode: 'disable' };

  step(
    'Connect your PostgreSQL',
    `Your database (here an embedded PostgreSQL on 127.0.0.1:${customer.postgres.port}) holds seed 000's table promo_codes(id, email, name, birthday, promo_code). A read-only role is enough.`,
  );
  const readerSettings = { ...connection, database: 'shop', user: customer.reader, password: customer.password };
  const check = await api.call('POST', '/api/v1/connectors/validate', readerSettings, 200);
  out(
    `   Check connection: PostgreSQL ${check.serverVersion}, ${check.privileges.readableTables} readable table(s), SSL ${check.ssl ? 'on' : 'off'}${check.warnings.length ? ` — warning ${check.warnings.map((warning: { code: string }) => warning.code).join(', ')}` : ''}`,
  );
  const shop = await api.call(
    'POST',
    '/api/v1/connectors',
    { ...readerSettings, name: `Demo shop ${run}`, uniqueKey: { column: 'email', contactField: 'email' } },
    201,
  );
  out(`   Saved as connector #${shop.id}; the password went to the secrets store and is never shown again.`);
  await api.call('POST', `/api/v1/connectors/${shop.id}/validate`, undefined, 200);

  step('Create the data source', 'Pick the table: it gets a numeric id, and templates read its rows as $data.promo_codes.');
  const columns = await api.call('GET', `/api/v1/connectors/${shop.id}/datasets/public/tables/promo_codes/columns`, undefined, 200);
  out(`   Columns: ${columns.columns.map((column: { name: string; type: string }) => `${column.name} ${column.type}`).join(', ')}`);
  const existing = await api.call<{ datasources: { id: number; name: string }[] }>('GET', '/api/v1/datasources', undefined, 200);
  for (const old of existing.datasources.filter((source) => source.name === 'promo_codes')) {
    out('   (an earlier demo run left a source of this name: it goes first)');
    await api.call('DELETE', `/api/v1/datasources/${old.id}?force=true`, undefined, 204);
  }
  const source = await api.call(
    'POST',
    '/api/v1/datasources',
    { connectorId: shop.id, dataset: 'public', table: 'promo_codes', name: 'promo_codes' },
    201,
  );

  step('Add the contacts', 'Dina and Ivan are in your table and in the account; the stranger is only in your table.');
  const dina = await api.call(
    'POST',
    '/api/v1/contact',
    { firstName: 'Dina', lastName: 'Kozak', channels: [{ type: 'email', value: 'kozak@example.com' }] },
    200,
  );
  await api.call(
    'POST',
    '/api/v1/contact',
    { firstName: 'Ivan', lastName: 'Petrenko', channels: [{ type: 'email', value: 'ivan@example.com' }] },
    200,
  );

  step(
    'Segment on the external birthday column',
    'Contacts whose birthday (in your table) is today; only contacts in both the account and the table qualify.',
  );
  const segment = await api.call(
    'POST',
    '/api/v1/groups',
    { name: `Birthday today ${run}`, conditions: [{ source: source.id, column: 'birthday', operator: 'dayAndMonthIsToday' }] },
    200,
  );
  const members = await api.call<{ id: number; channels: { value: string }[] }[]>('GET', `/api/v1/group/${segment.id}/contacts`, undefined, 200);
  out(`   Members: ${members.map((member) => member.channels[0]?.value).join(', ')}`);
  if (members.length !== 1 || members[0]?.id !== dina.id) throw new StepFailed('the segment should hold Dina alone');

  step('A message that uses $data.promo_codes', "Velocity, as the seed writes it: the contact's rows of the source, by its name.");
  const promoTemplate =
    "<p>Happy birthday, $!data.get('promo_codes').get(0).get('name')! Your code: $!data.get('promo_codes').get(0).get('promo_code')</p>";
  const promo = await api.call(
    'POST',
    '/api/v1/messages/email',
    { name: `Birthday promo ${run}`, subject: 'A gift for you', htmlText: promoTemplate },
    201,
  );

  step('Preview it for a contact', "The template rendered with Dina's row, before anything is sent.");
  const preview = await api.call('POST', '/api/v1/templates/render', { template: promoTemplate, contactId: dina.id, data: 'bulk' }, 200);
  out(`   Dina would read: ${preview.output}`);
  if (!String(preview.output).includes('AAAA-BBBB-DDDD')) throw new StepFailed("the preview should print Dina's promo code");

  step(
    'Register a webhook receiver',
    'Your endpoint (here a small server in this process) answers a verification GET; activities then arrive as signed JSON arrays.',
  );
  const webhook = await api.call('PUT', '/api/v1/webhook', { url: receiver.url }, 200);
  receiver.useSecret(webhook.secret);
  out('   Each POST carries webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks); the receiver checks them with the secret.');

  step(
    'Run the regular workflow',
    'Every day on its schedule (here: now), each member of the segment gets the event regularEventType-<segmentId>, its rows as jsonParam, and the triggered message.',
  );
  const triggered = await api.call(
    'POST',
    '/api/v1/messages/email',
    {
      name: `Birthday trigger ${run}`,
      subject: 'A gift for you',
      htmlText: `<p>Your code: $!data.get('${source.id}').get(0).get('promo_code')</p>`,
      jsonParamField: '${jsonParam}',
    },
    201,
  );
  const workflow = await api.call(
    'POST',
    '/api/v1/workflows/regular',
    { name: `Birthday promo ${run}`, segmentId: segment.id, sourceIds: [source.id], messageId: triggered.id },
    201,
  );
  await api.call('POST', `/api/v1/workflows/regular/${workflow.id}/run`, undefined, 202);
  out('   Waiting for the trigger event …');
  const event = await until('the trigger event', async () => {
    const events = await api.peek<{ eventTypeKey: string; params: { name: string; value: string }[] }[]>(
      `/api/v1/events?eventTypeKey=${encodeURIComponent(workflow.eventTypeKey)}&contactId=${dina.id}`,
    );
    return events[0];
  });
  out(`   $ curl -u demo:$KEY '${baseUrl}/api/v1/events?eventTypeKey=${workflow.eventTypeKey}&contactId=${dina.id}'`);
  out(`   → ${event.eventTypeKey}`);
  for (const param of event.params) out(`       ${param.name} = ${param.value}`);
  const jsonParam = JSON.parse(event.params.find((param) => param.name === 'jsonParam')?.value ?? '{}') as Record<string, { promo_code?: string }[]>;
  if (jsonParam[String(source.id)]?.[0]?.promo_code !== 'AAAA-BBBB-DDDD')
    throw new StepFailed("jsonParam should carry Dina's row under the source id");

  step(
    'The activities reach your webhook',
    'A delivery channel reports what happened to the message (DELIVERED, then CLICKED); Satellite POSTs them to your URL in order.',
  );
  const now = new Date().toISOString();
  await api.call(
    'POST',
    '/api/v1/activities',
    [
      { activityStatus: 'DELIVERED', mediaType: 'Email', activityDateTime: now, contactId: dina.id, messageId: promo.id },
      {
        activityStatus: 'CLICKED',
        mediaType: 'Email',
        activityDateTime: now,
        contactId: dina.id,
        messageId: promo.id,
        clickEventLink: 'https://shop.example.com/gift',
      },
    ],
    200,
  );
  await until('the webhook POSTs', async () => (receiver.received.some((activity) => activity.activityStatus === 'CLICKED') ? true : undefined));
  if (receiver.rejected.length > 0) throw new StepFailed(`a webhook POST failed its signature check: ${receiver.rejected[0]}`);
  for (const activity of receiver.received)
    out(
      `   received: ${String(activity.activityStatus)} ${String(activity.mediaType)} for ${String(activity.email ?? activity.contactId)} at ${String(activity.activityDateTime)}`,
    );

  step(
    'Export to your warehouse',
    'Contacts and their activities, into a schema of your PostgreSQL (a writable role this time); tables are created on the first run.',
  );
  const warehouse = await api.call(
    'POST',
    '/api/v1/connectors',
    {
      ...connection,
      database: 'warehouse',
      user: customer.writer,
      password: customer.password,
      name: `Demo warehouse ${run}`,
      uniqueKey: { column: 'email', contactField: 'email' },
    },
    201,
  );
  const dataExport = await api.call(
    'POST',
    '/api/v1/exports',
    { connectorId: warehouse.id, datasets: ['contacts', 'contactActivities'], interval: 'daily', schema: 'satellite' },
    201,
  );
  type ExportRun = { id: number; dataset: string; status: string; rowsWritten: number; error: unknown };
  /** Runs the export now and waits for the runs it started; they copy what had changed when their pass began. */
  const runExport = async (): Promise<ExportRun[]> => {
    const started = await api.call<{ runs: ExportRun[] }>('POST', `/api/v1/exports/${dataExport.id}/run`, undefined, 202);
    const ids = new Set(started.runs.map((entry) => entry.id));
    let latest: unknown;
    return until(
      () => `the export runs (last seen: ${JSON.stringify(latest)})`,
      async () => {
        const list = (await api.peek<ExportRun[]>(`/api/v1/exports/${dataExport.id}/runs`)).filter((entry) => ids.has(entry.id));
        latest = list;
        // A retry means something is wrong with the destination: say so now rather than wait out the backoff.
        const failed = list.find((entry) => entry.status === 'failed' || entry.status === 'retrying');
        if (failed) throw new StepFailed(`the ${failed.dataset} export failed: ${JSON.stringify(failed.error)}`);
        return list.length === ids.size && list.every((entry) => entry.status === 'succeeded') ? list : undefined;
      },
      120_000,
    );
  };
  const warehouseContacts = async () =>
    (
      await customer.warehouse.query<{ contactId: string; email: string; firstName: string }>(
        'SELECT "contactId", email, "firstName" FROM satellite.contacts ORDER BY "contactId"',
      )
    ).rows;
  out('   Waiting for the runs …');
  for (const entry of await runExport()) out(`   ${entry.dataset}: ${entry.status}, ${entry.rowsWritten} row(s)`);
  let rows = await warehouseContacts();
  // A pass takes the changes of every transaction that had ended when it began (later ones go
  // in the next pass, so none is lost). Dina's message is still being sent and recorded in the
  // background, and on a busy machine her latest change can miss the first pass: the next one
  // is run now rather than tomorrow.
  for (let pass = 2; pass <= 3 && !rows.some((row) => row.email === 'kozak@example.com'); pass += 1) {
    out("   Dina's latest change was still being recorded when the pass began, so it goes in the next pass. Running it now …");
    for (const entry of await runExport()) out(`   ${entry.dataset}: ${entry.status}, ${entry.rowsWritten} row(s)`);
    rows = await warehouseContacts();
  }
  out('   $ psql warehouse -c \'SELECT "contactId", email, "firstName" FROM satellite.contacts\'');
  for (const row of rows) out(`     ${row.contactId} | ${row.email} | ${row.firstName}`);
  if (!rows.some((row) => row.email === 'kozak@example.com')) throw new StepFailed('the warehouse should hold Dina');
  const activityCount = await customer.warehouse.query<{ count: string }>('SELECT count(*) FROM satellite."contactActivities"');
  out(`   satellite."contactActivities": ${activityCount.rows[0]?.count} row(s)`);

  step(
    'A partner app, through OAuth 2.0',
    'A CRM registers an app, the account owner approves it in the browser, and the app acts within its scope.',
  );
  const callback = 'http://127.0.0.1:9/callback';
  const app = await api.call('POST', '/api/v1/oauth/apps', { name: `Acme CRM ${run}`, redirectUris: [callback], scopes: ['eventsAndContacts'] }, 201);
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('hex');
  const authorizeUrl = `/oauth/authorize?response_type=code&client_id=${app.clientId}&redirect_uri=${encodeURIComponent(callback)}&scope=eventsAndContacts&state=${state}&code_challenge=${challenge}&code_challenge_method=S256`;
  const back = await authorizeInBrowser(authorizeUrl, credentials);
  const code = back.searchParams.get('code');
  if (!code || back.searchParams.get('state') !== state) throw new StepFailed('the callback should carry the code and our state');
  out(
    `   $ curl -u $CLIENT_ID:$CLIENT_SECRET -X POST ${baseUrl}/oauth/token -d grant_type=authorization_code -d code=… -d redirect_uri=${callback} -d code_verifier=…`,
  );
  const tokenResponse = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callback, code_verifier: verifier }).toString(),
  });
  const tokens = (await tokenResponse.json()) as { access_token: string; scope: string; expires_in: number };
  out(`   → ${tokenResponse.status} ${shorten(masked(tokens))}`);
  if (tokenResponse.status !== 200) throw new StepFailed('the token endpoint should answer 200');
  const partner = new Api(`Bearer ${tokens.access_token}`, "-H 'authorization: Bearer $ACCESS_TOKEN'");
  const read = await partner.call('GET', `/api/v1/contact/${dina.id}`, undefined, 200);
  out(`   The app reads ${read.firstName} ${read.lastName} with its token; outside its scope it is refused:`);
  await partner.call('POST', '/api/v1/exports', { connectorId: warehouse.id, datasets: ['contacts'] }, 403);

  out();
  out('   Tidying up: the warehouse goes away with the demo, so its export schedule goes too.');
  await api.call('DELETE', `/api/v1/exports/${dataExport.id}`, undefined, 204);
  out();
  out('The whole story ran. The API reference: ' + `${baseUrl}/docs`);
}

async function main(): Promise<void> {
  let started: Awaited<ReturnType<typeof startSatellite>> | undefined;
  let customer: Awaited<ReturnType<typeof startCustomerPostgres>> | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  let failed = false;
  try {
    let credentials: Credentials;
    if (await answering()) {
      out(
        `Satellite answers at ${baseUrl}; the demo account's key and login come from ${path.relative(process.cwd(), stateDir) || '.'} (or SATELLITE_API_KEY, SATELLITE_DEMO_PASSWORD).`,
      );
      credentials = credentialsIn(stateDir);
    } else {
      started = await startSatellite();
      credentials = started.credentials;
    }
    out("Starting the customer's PostgreSQL (embedded) and a webhook receiver …");
    customer = await startCustomerPostgres();
    receiver = await startReceiver();
    await story(credentials, customer, receiver);
  } catch (error) {
    failed = true;
    out();
    if (started) out(`(npm start's output, last lines)\n${started.output().slice(-3000)}`);
    out(`✗ ${error instanceof StepFailed ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    // Satellite first: its connector pools hold connections to the customer's server.
    if (started) {
      const child = started.child;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      rmSync(started.stateDir, { recursive: true, force: true });
    }
    receiver?.server.close();
    await customer?.warehouse.end();
    await customer?.postgres.stop();
    if (customer) rmSync(customer.dataDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

void main();
