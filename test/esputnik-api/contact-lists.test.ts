import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Right } from '../../shared/accounts/rights';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';
import { xlsxWorkbook } from '../support/xlsx-workbook';

/** Seed 004's contact methods that answered 404 before issue #26, through the HTTP API. */
let stack: TestStack;
let account: TestAccount;

beforeAll(async () => {
  stack = await startTestStack();
  account = await stack.createAccount();
});
afterAll(() => stack.stop());

/** Another key of the same account, with one right. */
async function keyWith(rights: Right): Promise<TestAccount> {
  const issued = await stack.request(account, 'POST', '/api/v1/api-keys', { name: `key ${rights}`, rights });
  expect(issued.status).toBe(201);
  const key = issued.body.key as string;
  return { accountId: account.accountId, apiKey: key, authorization: `Basic ${Buffer.from(`user:${key}`).toString('base64')}` };
}

async function contact(body: Record<string, unknown>): Promise<number> {
  const response = await stack.request(account, 'POST', '/api/v1/contact', body);
  expect(response.status).toBe(200);
  return response.body.id as number;
}

async function importFinished(sessionId: string): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  await waitUntil(
    async () => {
      body = (await stack.request(account, 'GET', `/api/v1/importstatus/${sessionId}`)).body;
      return body.status === 'FINISHED' || body.status === 'FAILED';
    },
    'the import ending',
    20_000,
  );
  return body;
}

describe('GET contacts/email', () => {
  it('answers the emails of contacts by id and the ids of contacts by email', async () => {
    const anna = await contact({ firstName: 'Anna', channels: [{ type: 'email', value: 'Anna@Example.com' }] });
    const bohdan = await contact({ firstName: 'Bohdan', channels: [{ type: 'email', value: 'bohdan@example.com' }] });
    const byId = await stack.request(account, 'GET', `/api/v1/contacts/email?ids=${anna},${bohdan}`);
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual([
      { id: anna, email: 'Anna@Example.com' },
      { id: bohdan, email: 'bohdan@example.com' },
    ]);
    const byEmail = await stack.request(account, 'GET', '/api/v1/contacts/email?emails=anna@example.com');
    expect(byEmail.body).toEqual([{ id: anna, email: 'Anna@Example.com' }]);
    expect((await stack.request(account, 'GET', '/api/v1/contacts/email')).status).toBe(400);
    expect((await stack.request(account, 'GET', '/api/v1/contacts/email?ids=1&unknown=2')).status).toBe(400);
    // Reading contacts is its own right: a key that may only write them cannot look them up.
    expect((await stack.request(await keyWith('eventsAndContactsWrite'), 'GET', `/api/v1/contacts/email?ids=${anna}`)).status).toBe(403);
  });
});

describe('contact/{id}/subscriptions', () => {
  it('reads and replaces the categories a contact is subscribed to, under the read and write rights', async () => {
    const id = await contact({ firstName: 'Sub', channels: [{ type: 'email', value: 'sub@example.com' }] });
    expect((await stack.request(account, 'GET', `/api/v1/contact/${id}/subscriptions`)).body).toEqual([]);
    const put = await stack.request(account, 'PUT', `/api/v1/contact/${id}/subscriptions`, { subscriptions: ['news', 'promo', 'news'] });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(['news', 'promo']);
    expect((await stack.request(account, 'GET', `/api/v1/contact/${id}/subscriptions`)).body).toEqual(['news', 'promo']);
    await stack.request(account, 'PUT', `/api/v1/contact/${id}/subscriptions`, { subscriptions: ['promo'] });
    expect((await stack.request(account, 'GET', `/api/v1/contact/${id}/subscriptions`)).body).toEqual(['promo']);
    // A contact whose categories were never set gets every category the account has.
    const fresh = await contact({ channels: [{ type: 'email', value: 'fresh@example.com' }] });
    expect((await stack.request(account, 'GET', `/api/v1/contact/${fresh}/subscriptions`)).body).toEqual(['news', 'promo']);

    expect((await stack.request(account, 'GET', '/api/v1/contact/99999999/subscriptions')).status).toBe(404);
    expect((await stack.request(account, 'PUT', `/api/v1/contact/${id}/subscriptions`, { subscriptions: [''] })).status).toBe(400);
    const writer = await keyWith('eventsAndContactsWrite');
    expect((await stack.request(writer, 'PUT', `/api/v1/contact/${id}/subscriptions`, { subscriptions: [] })).status).toBe(200);
    expect((await stack.request(writer, 'GET', `/api/v1/contact/${id}/subscriptions`)).status).toBe(403);
  });
});

describe('emails/unsubscribed/add and /delete', () => {
  it('shares the email channel’s suppression list: an unsubscribed address gets no send until it is removed', async () => {
    const id = await contact({ firstName: 'Olha', channels: [{ type: 'email', value: 'olha@example.com' }] });
    const message = await stack.request(account, 'POST', '/api/v1/messages/email', { name: 'Hello', subject: 'Hi', htmlText: '<p>Hi</p>' });
    const send = async () =>
      (await stack.request(account, 'POST', `/api/v1/message/${message.body.id}/smartsend`, { recipients: [{ contactId: id }] })).body.results[0];

    const emailStatus = async () =>
      (await stack.platform.db.query<{ email_status: string | null }>('SELECT email_status FROM contacts WHERE id = $1', [id])).rows[0]!.email_status;
    const added = await stack.request(account, 'POST', '/api/v1/emails/unsubscribed/add', { emails: ['OLHA@example.com', 'other@example.com'] });
    expect(added.body).toEqual({ emails: ['olha@example.com', 'other@example.com'] });
    // The contact using the address shows it (exports' emailStatus) until it is removed.
    expect(await emailStatus()).toBe('UNSUBSCRIBED');
    const listed = await stack.request(account, 'GET', '/api/v1/email/suppressions?address=olha@example.com');
    expect(listed.body.suppressions).toEqual([expect.objectContaining({ address: 'olha@example.com', reason: 'UNSUBSCRIBED' })]);
    expect(await send()).toMatchObject({ status: 'ERROR', error: { code: 'EMAIL_SUPPRESSED' } });

    const removed = await stack.request(account, 'POST', '/api/v1/emails/unsubscribed/delete', { emails: ['olha@example.com', 'never@example.com'] });
    expect(removed.body).toEqual({ emails: ['olha@example.com'] });
    expect(await emailStatus()).toBeNull();
    expect(await send()).toMatchObject({ status: 'OK' });

    expect((await stack.request(account, 'POST', '/api/v1/emails/unsubscribed/add', { emails: ['not an email'] })).status).toBe(400);
    expect((await stack.request(await keyWith('events'), 'POST', '/api/v1/emails/unsubscribed/add', { emails: ['x@example.com'] })).status).toBe(403);
  });
});

describe('group/{id}/contacts/detach', () => {
  it('takes contacts out of a static group named by the id GET groups gives it', async () => {
    const subscribed = await stack.request(account, 'POST', '/api/v1/contact/subscribe', {
      contact: { channels: [{ type: 'email', value: 'member@example.com' }] },
      groups: ['Weekly'],
    });
    const memberId = subscribed.body.id as number;
    const groups = await stack.request(account, 'GET', '/api/v1/groups');
    const weekly = (groups.body as { id: number; name: string; type: string }[]).find((group) => group.name === 'Weekly');
    expect(weekly).toMatchObject({ type: 'static' });
    const detached = await stack.request(account, 'POST', `/api/v1/group/${weekly!.id}/contacts/detach`, { contactIds: [memberId] });
    expect(detached.status).toBe(200);
    expect(detached.body).toEqual({ detached: 1 });
    expect((await stack.request(account, 'GET', `/api/v1/contact/${memberId}`)).body.groups).toEqual([]);
    expect((await stack.request(account, 'POST', '/api/v1/group/499999999/contacts/detach', { contactIds: [memberId] })).status).toBe(404);
  });
});

describe('POST contacts/upload', () => {
  it('imports a CSV given inline through the import worker, with POST /contacts’ dedupe and importstatus', async () => {
    const existing = await contact({ firstName: 'Before', channels: [{ type: 'email', value: 'petro@example.com' }] });
    const csv =
      'Email;First name;Last name;Sms\n' +
      'petro@example.com;Petro;Koval;\n' +
      'maria@example.com;Maria;"Shevchenko; Jr";+380 95 649 09 55\n' +
      'not-an-email;Bad;Row;\n';
    const started = await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', csv });
    expect(started.status).toBe(200);
    const status = await importFinished(started.body.asyncSessionId);
    expect(status).toMatchObject({ status: 'FINISHED', total: 2, processed: 2, created: 1, updated: 1, failed: 1 });
    expect(status.errors).toEqual([expect.objectContaining({ index: 3, code: 'INVALID_ROW' })]);
    expect((await stack.request(account, 'GET', `/api/v1/contact/${existing}`)).body).toMatchObject({ firstName: 'Petro', lastName: 'Koval' });
    const maria = await stack.request(account, 'GET', '/api/v1/contacts?email=maria@example.com');
    expect(maria.body[0]).toMatchObject({ lastName: 'Shevchenko; Jr', contactSource: 'IMPORT' });
  });

  it('fetches a file by link and reports a link that cannot be read', async () => {
    const server = http.createServer((request, response) => {
      if (request.url === '/contacts.csv') {
        response.writeHead(200, { 'content-type': 'text/csv' });
        response.end('Email,First name\r\nlinked@example.com,Linked\r\n');
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const started = await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', link: `${base}/contacts.csv` });
      expect(await importFinished(started.body.asyncSessionId)).toMatchObject({ status: 'FINISHED', created: 1 });
      expect((await stack.request(account, 'GET', '/api/v1/contacts?email=linked@example.com')).body[0]).toMatchObject({ firstName: 'Linked' });

      const missing = await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', link: `${base}/gone.csv` });
      expect(await importFinished(missing.body.asyncSessionId)).toMatchObject({
        status: 'FAILED',
        errors: [{ code: 'UPLOAD_FILE_UNREADABLE', message: 'the link answered HTTP 404' }],
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect((await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', link: 'ftp://example.com/x.csv' })).status).toBe(
      400,
    );
    expect((await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email' })).status).toBe(400);
    expect(
      (await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', link: 'http://no-such-host.invalid/x.csv' })).body.error
        .code,
    ).toBe('DNS_NOT_FOUND');
  });
});

describe('POST contacts/upload with an XLSX workbook', () => {
  it('imports the first sheet’s rows with the same dedupe and importstatus as a CSV, numbers kept as written', async () => {
    const existing = await contact({ firstName: 'Old', channels: [{ type: 'email', value: 'olena@example.com' }] });
    const workbook = xlsxWorkbook([
      {
        name: 'Contacts',
        rows: [
          ['Email', 'First name', 'Last name', 'Phone', 'External customer ID'],
          ['olena@example.com', 'Olena', 'Bondar', 380671234567, null],
          ['ivan@example.com', 'Ivan', null, null, 'crm-42'],
          [null, null, null, null, null],
          ['broken', 'Bad', 'Row', null, null],
        ],
      },
      // Only the first sheet is read, as eSputnik reads it.
      { name: 'Notes', rows: [['Email'], ['never@example.com']] },
    ]);
    const started = await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', xlsx: workbook.toString('base64') });
    expect(started.status).toBe(200);
    const status = await importFinished(started.body.asyncSessionId);
    expect(status).toMatchObject({ status: 'FINISHED', total: 2, processed: 2, created: 1, updated: 1, failed: 1 });
    expect(status.errors).toEqual([expect.objectContaining({ index: 4, code: 'INVALID_ROW' })]);
    expect((await stack.request(account, 'GET', `/api/v1/contact/${existing}`)).body).toMatchObject({
      firstName: 'Olena',
      lastName: 'Bondar',
      channels: expect.arrayContaining([{ type: 'sms', value: '380671234567' }]),
    });
    expect((await stack.request(account, 'GET', '/api/v1/contacts?email=ivan@example.com')).body[0]).toMatchObject({
      firstName: 'Ivan',
      externalCustomerId: 'crm-42',
      contactSource: 'IMPORT',
    });
    expect((await stack.request(account, 'GET', '/api/v1/contacts?email=never@example.com')).body).toEqual([]);
  });

  it('reads a workbook fetched by link, and says why an .xls or a broken workbook is not read', async () => {
    const files: Record<string, Buffer> = {
      '/linked.xlsx': xlsxWorkbook([
        {
          name: 'Sheet1',
          rows: [
            ['E-mail', 'Firstname'],
            ['linked-xlsx@example.com', 'Linked'],
          ],
        },
      ]),
      '/old.xls': Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]),
      '/broken.xlsx': Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.from('not really a zip')]),
    };
    const server = http.createServer((request, response) => {
      const file = files[request.url ?? ''];
      if (!file) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(file);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const linked = await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', link: `${base}/linked.xlsx` });
      expect(await importFinished(linked.body.asyncSessionId)).toMatchObject({ status: 'FINISHED', created: 1 });
      expect((await stack.request(account, 'GET', '/api/v1/contacts?email=linked-xlsx@example.com')).body[0]).toMatchObject({ firstName: 'Linked' });

      const old = await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', link: `${base}/old.xls` });
      expect(await importFinished(old.body.asyncSessionId)).toMatchObject({
        status: 'FAILED',
        errors: [{ code: 'UPLOAD_FILE_UNREADABLE', message: expect.stringContaining('.xls') }],
      });
      const broken = await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', link: `${base}/broken.xlsx` });
      expect(await importFinished(broken.body.asyncSessionId)).toMatchObject({
        status: 'FAILED',
        errors: [{ code: 'UPLOAD_FILE_UNREADABLE', message: expect.stringContaining('the workbook could not be read') }],
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // One file per request, and base64 only.
    const both = await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', csv: 'Email\n', xlsx: 'UEsDBA==' });
    expect(both.status).toBe(400);
    expect((await stack.request(account, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', xlsx: 'not base64!' })).status).toBe(400);
  });
});

describe('POST contacts/upload under production rules', () => {
  it('refuses a link to a loopback or private host, as connectors and webhooks do', async () => {
    const production = await startTestStack({ env: { SATELLITE_PRODUCTION: 'true' } });
    try {
      const owner = await production.createAccount();
      for (const link of ['http://127.0.0.1:9/contacts.csv', 'http://169.254.169.254/latest/meta-data', 'http://localhost/contacts.csv']) {
        const refused = await production.request(owner, 'POST', '/api/v1/contacts/upload', { dedupeOn: 'email', link });
        expect([link, refused.status, refused.body.error.code]).toEqual([link, 422, 'DESTINATION_NOT_ALLOWED']);
      }
      const jobs = await production.platform.db.query('SELECT count(*)::int AS n FROM contact_import_jobs WHERE account_id = $1', [owner.accountId]);
      expect(jobs.rows[0].n).toBe(0);
    } finally {
      await production.stop();
    }
  });
});
