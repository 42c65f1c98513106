import { freePort } from '../../local/free-port';
import { startSmtpSinkServer, type CaughtEmail, type RunningSmtpSink } from '../../local/smtp-sink';
import { FakeClock } from '../support/fake-clock';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';

/**
 * Seed 004's message methods beyond smartsend, through the whole local stack onto a real
 * SMTP server: instant email and the older prepared send go the email channel's way, and
 * message/status reads what became of each send from its activities.
 */
let stack: TestStack;
let sink: RunningSmtpSink;
let account: TestAccount;

beforeAll(async () => {
  sink = await startSmtpSinkServer();
  const port = await freePort();
  stack = await startTestStack({ port, env: { PUBLIC_BASE_URL: `http://127.0.0.1:${port}` } });
  account = await stack.createAccount();
  const settings = await stack.request(account, 'PUT', '/api/v1/settings/email', {
    fromAddress: 'shop@example.com',
    fromName: 'Example Shop',
    channel: { type: 'smtp', host: '127.0.0.1', port: sink.smtpPort, security: 'none' },
  });
  expect(settings.status).toBe(200);
});
afterAll(async () => {
  await stack.stop();
  await sink.stop();
});

async function caughtFor(address: string): Promise<CaughtEmail> {
  await waitUntil(async () => sink.messages.some((message) => message.envelope.to.includes(address)), `an email to ${address}`, 15_000);
  return sink.messages.find((message) => message.envelope.to.includes(address))!;
}

async function statusOf(requestId: string, path = '/api/v1/message/status') {
  const response = await stack.request(account, 'GET', `${path}?ids=${requestId}`);
  expect(response.status).toBe(200);
  return response.body.results[0];
}

async function statusBecomes(requestId: string, status: string) {
  await waitUntil(async () => (await statusOf(requestId))?.status === status, `status ${status} of ${requestId}`, 15_000);
  return statusOf(requestId);
}

describe('POST message/email (instant email)', () => {
  it('sends the given content to each address, making contacts for new ones, and message/status follows each send', async () => {
    await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'Iryna', channels: [{ type: 'email', value: 'iryna@example.com' }] });
    const sent = await stack.request(account, 'POST', '/api/v1/message/email', {
      from: '"Shop news" <news@example.com>',
      subject: 'Hello $!contact.firstName',
      htmlText: '<p>Hi $!contact.firstName, <a href="https://shop.example.com/sale">sale</a></p>',
      emails: ['iryna@example.com', 'new.person@example.com'],
      tags: ['instant'],
      externalRequestId: 'crm-42',
    });
    expect(sent.status).toBe(200);
    const [iryna, newcomer] = sent.body.results;
    expect(iryna).toMatchObject({
      locator: 'iryna@example.com',
      status: 'OK',
      externalRequestId: 'crm-42',
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(newcomer).toMatchObject({ locator: 'new.person@example.com', status: 'OK' });
    expect((await stack.request(account, 'GET', `/api/v1/contact/${newcomer.contactId}`)).body.channels).toEqual([
      { type: 'email', value: 'new.person@example.com' },
    ]);

    const email = await caughtFor('iryna@example.com');
    expect(email.subject).toBe('Hello Iryna');
    expect(email.from).toBe('"Shop news" <news@example.com>');
    expect((await caughtFor('new.person@example.com')).subject).toBe('Hello'); // the header is trimmed

    expect(await statusBecomes(iryna.requestId, 'DELIVERED')).toMatchObject({
      requestId: iryna.requestId,
      locator: 'iryna@example.com',
      mediaType: 'Email',
    });
    const pixel = /<img src="([^"]+)"/.exec(email.html ?? '')![1]!.replace(/&amp;/g, '&');
    expect((await fetch(pixel)).status).toBe(200);
    const read = await statusBecomes(iryna.requestId, 'READ');
    expect(read.events.map((event: { status: string }) => event.status)).toEqual(['SENT', 'DELIVERED', 'READ']);

    // The device-side report of an interaction is the same send's activity.
    expect((await stack.request(account, 'PUT', `/api/v1/interactions/${iryna.requestId}/status`, { status: 'CLICKED' })).status).toBe(200);
    expect((await statusOf(iryna.requestId)).status).toBe('CLICKED');
    expect(
      (await stack.request(account, 'PUT', '/api/v1/interactions/00000000-0000-4000-8000-000000000000/status', { status: 'CLICKED' })).status,
    ).toBe(404);

    expect((await statusOf(iryna.requestId, '/api/v1/message/email/status')).status).toBe('CLICKED');
    expect((await stack.request(account, 'GET', `/api/v1/message/sms/status?ids=${iryna.requestId}`)).body.results).toEqual([]);
    // The instant content is no message of the account's list.
    expect(
      (await stack.request(account, 'GET', '/api/v1/messages/email')).body.some((message: { name: string }) => message.name.startsWith('Instant')),
    ).toBe(false);
  });

  it('respects the unsubscribed list, sends as given with skipPersonalisation, and sits under the messages right', async () => {
    await stack.request(account, 'POST', '/api/v1/emails/unsubscribed/add', { emails: ['gone@example.com'] });
    const sent = await stack.request(account, 'POST', '/api/v1/message/email', {
      subject: 'Price: $5 #1',
      htmlText: '<p>$!contact.firstName costs $5</p>',
      emails: ['gone@example.com', 'literal@example.com'],
      skipPersonalisation: true,
    });
    expect(sent.body.results[0]).toMatchObject({ locator: 'gone@example.com', status: 'ERROR', errorCode: 'EMAIL_SUPPRESSED' });
    expect(sent.body.results[1]).toMatchObject({ status: 'OK' });
    const literal = await caughtFor('literal@example.com');
    expect(literal.subject).toBe('Price: $5 #1');
    expect(literal.from).toBe('"Example Shop" <shop@example.com>');
    expect(literal.html).toContain('$!contact.firstName costs $5');
    expect(sink.messages.some((message) => message.envelope.to.includes('gone@example.com'))).toBe(false);

    expect((await stack.request(account, 'POST', '/api/v1/message/email', { subject: 'x', htmlText: 'x', emails: ['bad'] })).status).toBe(400);
    const contactsOnly = await stack.createAccount({ rights: 'eventsAndContacts' });
    expect(
      (await stack.request(contactsOnly, 'POST', '/api/v1/message/email', { subject: 'x', htmlText: 'x', emails: ['a@example.com'] })).status,
    ).toBe(403);
    expect((await stack.request(contactsOnly, 'GET', '/api/v1/message/status?ids=00000000-0000-4000-8000-000000000000')).status).toBe(403);
  });
});

describe('POST message/{id}/send (the older prepared send)', () => {
  it('renders the prepared message with the call’s params for each recipient and answers requestIds', async () => {
    const message = await stack.request(account, 'POST', '/api/v1/messages/email', {
      name: 'Order',
      subject: 'Order $!data.get("order")',
      htmlText: '<p>Total: $!data.get("total")</p>',
    });
    const sent = await stack.request(account, 'POST', `/api/v1/message/${message.body.id}/send`, {
      recipients: ['buyer@example.com', 'nobody-known'],
      params: [
        { key: 'order', value: 'A-17' },
        { key: 'total', value: 258 },
      ],
    });
    expect(sent.status).toBe(200);
    // A bare address of no contact is not a contact to send to (smartsend's rule).
    expect(sent.body.results[1]).toMatchObject({ locator: 'nobody-known', status: 'ERROR' });
    expect(sent.body.results[0]).toMatchObject({ locator: 'buyer@example.com', status: 'ERROR', errorCode: 'CONTACT_NOT_FOUND' });
    await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'buyer@example.com' }] });
    const again = await stack.request(account, 'POST', `/api/v1/message/${message.body.id}/send`, {
      recipients: ['buyer@example.com'],
      params: [
        { key: 'order', value: 'A-17' },
        { key: 'total', value: 258 },
      ],
    });
    expect(again.body.results[0]).toMatchObject({ status: 'OK', requestId: expect.any(String) });
    const email = await caughtFor('buyer@example.com');
    expect(email.subject).toBe('Order A-17');
    expect(email.html).toContain('Total: 258');
    await statusBecomes(again.body.results[0].requestId, 'DELIVERED');
    expect(
      (await stack.request(account, 'POST', `/api/v1/message/${message.body.id}/send`, { recipients: ['+380956490955'], email: false })).body.error
        .code,
    ).toBe('MESSAGE_NOT_SMS');
  });
});

describe('messages/email/{id}/{language} and viewLink', () => {
  it('adds, replaces and deletes a language version, which a contact of that language then gets', async () => {
    const message = await stack.request(account, 'POST', '/api/v1/messages/email', {
      name: 'Welcome',
      subject: 'Welcome',
      htmlText: '<p>Welcome</p>',
    });
    const id = message.body.id as number;
    const put = await stack.request(account, 'PUT', `/api/v1/messages/email/${id}/uk`, {
      subject: 'Вітаємо',
      htmlText: '<p>Вітаємо, $!contact.firstName</p>',
    });
    expect(put.status).toBe(200);
    expect(put.body.translations).toEqual([
      { languageCode: 'uk', subject: 'Вітаємо', htmlText: '<p>Вітаємо, $!contact.firstName</p>', plainText: null },
    ]);
    await stack.request(account, 'PUT', `/api/v1/messages/email/${id}/uk`, { subject: 'Вітаємо!', htmlText: '<p>Вітаємо!</p>' });
    expect((await stack.request(account, 'GET', `/api/v1/messages/email/${id}`)).body.translations).toHaveLength(1);

    const contact = await stack.request(account, 'POST', '/api/v1/contact', {
      languageCode: 'uk',
      channels: [{ type: 'email', value: 'ukr@example.com' }],
    });
    await stack.request(account, 'POST', `/api/v1/message/${id}/smartsend`, { recipients: [{ contactId: contact.body.id }] });
    expect((await caughtFor('ukr@example.com')).subject).toBe('Вітаємо!');

    expect((await stack.request(account, 'PUT', `/api/v1/messages/email/${id}/uk`, { subject: '#if(', htmlText: 'x' })).status).toBe(400);
    expect((await stack.request(account, 'DELETE', `/api/v1/messages/email/${id}/uk`)).status).toBe(204);
    expect((await stack.request(account, 'DELETE', `/api/v1/messages/email/${id}/uk`)).status).toBe(404);
    expect((await stack.request(account, 'PUT', `/api/v1/messages/email/99999999/uk`, { subject: 'x', htmlText: 'x' })).status).toBe(404);
    expect((await stack.request(account, 'PUT', `/api/v1/messages/email/${id}/not a language`, { subject: 'x', htmlText: 'x' })).status).toBe(400);
  });

  it('gives a signed, expiring public link to the rendered message', async () => {
    const clock = new FakeClock();
    const port = await freePort();
    const viewStack = await startTestStack({ port, clock, env: { PUBLIC_BASE_URL: `http://127.0.0.1:${port}` } });
    try {
      const owner = await viewStack.createAccount();
      const message = await viewStack.request(owner, 'POST', '/api/v1/messages/email', {
        name: 'Promo',
        subject: 'Promo',
        htmlText: '<p>Sale #if(true)today#end</p>',
      });
      await viewStack.request(owner, 'PUT', `/api/v1/messages/email/${message.body.id}/uk`, { subject: 'Акція', htmlText: '<p>Знижки</p>' });
      const link = await viewStack.request(owner, 'GET', `/api/v1/messages/email/${message.body.id}/viewLink`);
      expect(link.status).toBe(200);
      expect(link.body.viewLink).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/view/`));
      const page = await fetch(link.body.viewLink);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toBe('<p>Sale today</p>');
      const ukr = await viewStack.request(owner, 'GET', `/api/v1/messages/email/${message.body.id}/viewLink?language=uk`);
      expect(await (await fetch(ukr.body.viewLink)).text()).toBe('<p>Знижки</p>');

      // Another message id under the same signature is not served.
      const altered = link.body.viewLink.replace(`.${message.body.id}.`, `.${message.body.id + 1}.`);
      expect((await fetch(altered)).status).toBe(404);
      clock.advanceSeconds(7 * 24 * 3600 + 1);
      expect((await fetch(link.body.viewLink)).status).toBe(404);
      expect((await viewStack.request(owner, 'GET', '/api/v1/messages/email/99999999/viewLink')).status).toBe(404);
    } finally {
      await viewStack.stop();
    }
  });
});
