import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

let stack: TestStack;
let account: TestAccount;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
});
afterAll(() => stack.stop());

const promoTemplate = "Hi $!contact.firstName, #foreach($pc in $!data.get('1043'))$!pc.get('name'): $!pc.get('promo_code')#end";
const jsonParam = JSON.stringify({
  1043: [{ id: '2', email: 'kozak@example.com', name: 'Dina Kozak', birthday: '2020-09-02T00:00:00Z', promo_code: 'AAAA-BBBB-DDDD' }],
});

async function createContact(body: Record<string, unknown>): Promise<number> {
  const response = await stack.request(account, 'POST', '/api/v1/contact', body);
  expect(response.status).toBe(200);
  return response.body.id as number;
}

async function createMessage(overrides: Record<string, unknown> = {}): Promise<number> {
  const response = await stack.request(account, 'POST', '/api/v1/messages/email', {
    name: 'Promo',
    from: 'shop@example.com',
    subject: 'A code for $!contact.firstName',
    htmlText: promoTemplate,
    jsonParamField: '${jsonParam}',
    ...overrides,
  });
  expect(response.status).toBe(201);
  return response.body.id as number;
}

describe('email messages', () => {
  it('stores a message with language versions and answers it back', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/messages/email', {
      name: 'Welcome',
      subject: 'Hello',
      htmlText: '<p>Hello $!contact.firstName</p>',
      tags: ['welcome'],
      languageCode: 'en',
      jsonParamField: '${jsonParam}',
      translations: [{ languageCode: 'uk', subject: 'Привіт', htmlText: '<p>Привіт $!contact.firstName</p>' }],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Welcome',
      jsonParamField: 'jsonParam',
      tags: ['welcome'],
      translations: [{ languageCode: 'uk', subject: 'Привіт' }],
    });

    const read = await stack.request(account, 'GET', `/api/v1/messages/email/${created.body.id}`);
    expect(read.body).toEqual(created.body);

    const updated = await stack.request(account, 'PUT', `/api/v1/messages/email/${created.body.id}`, {
      name: 'Welcome 2',
      subject: 'Hi',
      htmlText: 'x',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Welcome 2', translations: [] });

    const listed = await stack.request(account, 'GET', '/api/v1/messages/email?maxrows=100');
    expect(listed.body.map((message: { id: number }) => message.id)).toContain(created.body.id);
    expect(Number(listed.headers.get('TotalCount'))).toBeGreaterThanOrEqual(1);

    expect((await stack.request(account, 'DELETE', `/api/v1/messages/email/${created.body.id}`)).status).toBe(204);
    const gone = await stack.request(account, 'GET', `/api/v1/messages/email/${created.body.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('MESSAGE_NOT_FOUND');
  });

  it('refuses a template that does not parse, naming the field, line and column, and stores nothing', async () => {
    const before = await stack.request(account, 'GET', '/api/v1/messages/email');
    const response = await stack.request(account, 'POST', '/api/v1/messages/email', {
      name: 'Broken',
      subject: 'ok',
      htmlText: 'line one\n#set($a = )',
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('TEMPLATE_SYNTAX');
    expect(response.body.error.details[0]).toEqual({ path: 'body.htmlText', message: expect.stringContaining('line 2, column 9') });
    const after = await stack.request(account, 'GET', '/api/v1/messages/email');
    expect(after.headers.get('TotalCount')).toBe(before.headers.get('TotalCount'));
  });

  it('keeps messages per account', async () => {
    const messageId = await createMessage();
    const other = await stack.createAccount();
    expect((await stack.request(other, 'GET', `/api/v1/messages/email/${messageId}`)).status).toBe(404);
    expect(
      (await stack.request(other, 'POST', `/api/v1/message/${messageId}/smartsend`, { recipients: [{ locator: 'a@example.com' }] })).status,
    ).toBe(404);
  });

  it('is a general method (seed 004, 1.3): any right manages messages, only the messages right sends them', async () => {
    const eventsOnly = await stack.createAccount({ rights: 'events' });
    expect((await stack.request(eventsOnly, 'GET', '/api/v1/messages/email')).status).toBe(200);
    const refused = await stack.request(eventsOnly, 'POST', '/api/v1/message/1/smartsend', { recipients: [{ contactId: 1 }] });
    expect(refused.status).toBe(403);
  });
});

describe('smartsend', () => {
  it('renders each recipient with its own jsonParam and contact, records an outbox row and a SENT activity, and reports each row', async () => {
    const dina = await createContact({ firstName: 'Dina', channels: [{ type: 'email', value: 'kozak@example.com' }], externalCustomerId: 'crm-2' });
    const ivan = await createContact({ firstName: 'Ivan', channels: [{ type: 'email', value: 'ivan@example.com' }] });
    const messageId = await createMessage();

    const response = await stack.request(account, 'POST', `/api/v1/message/${messageId}/smartsend`, {
      recipients: [
        { externalCustomerId: 'crm-2', jsonParam },
        { locator: 'IVAN@example.com' },
        { locator: 'nobody@example.com' },
        { contactId: dina, jsonParam: '{not json' },
        { contactId: ivan, externalCustomerId: 'someone-else' },
      ],
    });
    expect(response.status).toBe(200);
    const results = response.body.results;
    expect(results.map((result: { status: string }) => result.status)).toEqual(['OK', 'OK', 'ERROR', 'ERROR', 'OK']);
    expect(results[0].contactId).toBe(dina);
    expect(results[2].error.code).toBe('CONTACT_NOT_FOUND');
    expect(results[3].error.code).toBe('INVALID_JSON_PARAM');
    // contactId wins over externalCustomerId (seed 002).
    expect(results[4].contactId).toBe(ivan);

    const sends = await stack.platform.db.query(
      `SELECT s.contact_id, s.recipient, s.subject, s.html_text, a.activity_status, a.message_id
         FROM message_sends s JOIN contact_activities a ON a.id = s.activity_id
        WHERE s.id = ANY($1::bigint[]) ORDER BY s.id`,
      [[results[0].sendId, results[1].sendId]],
    );
    expect(sends.rows).toEqual([
      {
        contact_id: dina,
        recipient: 'kozak@example.com',
        subject: 'A code for Dina',
        html_text: 'Hi Dina, Dina Kozak: AAAA-BBBB-DDDD',
        activity_status: 'SENT',
        message_id: messageId,
      },
      {
        contact_id: ivan,
        recipient: 'ivan@example.com',
        subject: 'A code for Ivan',
        html_text: 'Hi Ivan, ',
        activity_status: 'SENT',
        message_id: messageId,
      },
    ]);
    const contact = await stack.request(account, 'GET', `/api/v1/contact/${dina}`);
    expect(contact.status).toBe(200);
  });

  it('refuses a jsonParam nested past 64 levels, or holding text the store cannot keep, on its row, and the send goes on for the others', async () => {
    const olga = await createContact({ firstName: 'Olga', channels: [{ type: 'email', value: 'olga@example.com' }] });
    const messageId = await createMessage();
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const nul = JSON.stringify({ '1043': [{ promo_code: 'A\u0000B' }] });
    const response = await stack.request(account, 'POST', `/api/v1/message/${messageId}/smartsend`, {
      recipients: [{ contactId: olga, jsonParam: deep }, { contactId: olga, jsonParam: nul }, { contactId: olga }],
    });
    expect(response.status).toBe(200);
    expect(response.body.results.map((result: { status: string; error?: { code: string } }) => result.error?.code ?? result.status)).toEqual([
      'INVALID_JSON_PARAM',
      'INVALID_JSON_PARAM',
      'OK',
    ]);
  });

  it('uses the language version of the contact', async () => {
    const olena = await createContact({ firstName: 'Olena', languageCode: 'uk', channels: [{ type: 'email', value: 'olena@example.com' }] });
    const messageId = await createMessage({
      languageCode: 'en',
      translations: [{ languageCode: 'uk', subject: 'Код для $!contact.firstName', htmlText: 'Привіт' }],
    });
    const response = await stack.request(account, 'POST', `/api/v1/message/${messageId}/smartsend`, { recipients: [{ contactId: olena }] });
    const { rows } = await stack.platform.db.query('SELECT subject, html_text, language_code FROM message_sends WHERE id = $1', [
      response.body.results[0].sendId,
    ]);
    expect(rows[0]).toEqual({ subject: 'Код для Olena', html_text: 'Привіт', language_code: 'uk' });
    // The SENT activity, which exports carry, knows the language and that smartsend is a triggered (IM) send.
    const activity = await stack.platform.db.query(
      'SELECT a.message_language_code, a.campaign_type FROM message_sends s JOIN contact_activities a ON a.id = s.activity_id WHERE s.id = $1',
      [response.body.results[0].sendId],
    );
    expect(activity.rows[0]).toEqual({ message_language_code: 'uk', campaign_type: 'IM' });
  });

  it('reports a template failure on the recipient with its line and column, sending nothing for it', async () => {
    const contactId = await createContact({ firstName: 'Petro', channels: [{ type: 'email', value: 'petro@example.com' }] });
    const messageId = await createMessage({ htmlText: "Hello\n  $!data.get('1043').get(0).get('name').substring(99)" });
    const response = await stack.request(account, 'POST', `/api/v1/message/${messageId}/smartsend`, { recipients: [{ contactId, jsonParam }] });
    expect(response.status).toBe(200);
    expect(response.body.results[0]).toMatchObject({ status: 'ERROR', error: { code: 'TEMPLATE_METHOD_FAILED', line: 2, column: 3 } });
    const { rows } = await stack.platform.db.query('SELECT count(*)::int AS n FROM message_sends WHERE message_id = $1', [messageId]);
    expect(rows[0].n).toBe(0);
  });

  it('refuses more than 1000 recipients and a missing message', async () => {
    const messageId = await createMessage();
    const tooMany = Array.from({ length: 1001 }, (_, index) => ({ locator: `r${index}@example.com` }));
    expect((await stack.request(account, 'POST', `/api/v1/message/${messageId}/smartsend`, { recipients: tooMany })).status).toBe(400);
    const missing = await stack.request(account, 'POST', '/api/v1/message/999999/smartsend', { recipients: [{ locator: 'a@example.com' }] });
    expect(missing.status).toBe(404);
  });
});

describe('template preview', () => {
  it('renders a template for a contact with a jsonParam', async () => {
    const contactId = await createContact({ firstName: 'Maria', channels: [{ type: 'email', value: 'maria@example.com' }] });
    const response = await stack.request(account, 'POST', '/api/v1/templates/render', { template: promoTemplate, contactId, jsonParam });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ output: 'Hi Maria, Dina Kozak: AAAA-BBBB-DDDD', contactId });
  });

  it('answers a template that does not render 422 with where it failed', async () => {
    const response = await stack.request(account, 'POST', '/api/v1/templates/render', { template: '#foreach($i in [1..100000000])x#end' });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('TEMPLATE_LIMIT_EXCEEDED');
    expect(response.body.error.message).toMatch(/line 1, column 1/);
  });

  it('answers an unknown contact 404', async () => {
    const response = await stack.request(account, 'POST', '/api/v1/templates/render', { template: 'x', contactId: 987654321 });
    expect(response.status).toBe(404);
  });
});
