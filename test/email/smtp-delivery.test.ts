import { freePort } from '../../local/free-port';
import { startSmtpSinkServer, type CaughtEmail, type RunningSmtpSink } from '../../local/smtp-sink';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';

/**
 * Email through the whole local stack onto a real SMTP server: smartsend records the send,
 * the send queue's worker hands it over SMTP (nodemailer) to the sink (smtp-server), and
 * what happened comes back as activities; the links in the email are then followed with a
 * real HTTP client.
 */
let stack: TestStack;
let sink: RunningSmtpSink;
let account: TestAccount;

const promoHtml =
  '<html><body><p>Hi $!contact.firstName,</p>' +
  "#foreach($pc in $!data.get('1043'))<p>$!pc.get('name'): <b>$!pc.get('promo_code')</b></p>#end" +
  "<p><a href=\"https://shop.example.com/promo?code=$!data.get('1043').get(0).get('promo_code')&amp;utm=email\">Use it</a></p></body></html>";
const jsonParam = JSON.stringify({
  1043: [{ id: '2', email: 'kozak@example.com', name: 'Dina Kozak', birthday: '2020-09-02T00:00:00Z', promo_code: 'AAAA-BBBB-DDDD' }],
});

beforeAll(async () => {
  sink = await startSmtpSinkServer();
  const port = await freePort();
  stack = await startTestStack({
    port,
    env: { PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, EMAIL_RETRY_BASE_SECONDS: '1', EMAIL_MAX_ATTEMPTS: '2', LOCAL_MAILBOX_URL: sink.mailboxUrl },
  });
  account = await stack.createAccount();
  const settings = await stack.request(account, 'PUT', '/api/v1/settings/email', {
    fromAddress: 'shop@example.com',
    fromName: 'Example Shop',
    replyTo: 'care@example.com',
    channel: { type: 'smtp', host: '127.0.0.1', port: sink.smtpPort, security: 'none' },
  });
  expect(settings.status).toBe(200);
});
afterAll(async () => {
  await stack.stop();
  await sink.stop();
});

async function createContact(email: string, firstName = 'Dina'): Promise<number> {
  const response = await stack.request(account, 'POST', '/api/v1/contact', { firstName, channels: [{ type: 'email', value: email }] });
  expect(response.status).toBe(200);
  return response.body.id as number;
}

async function promoMessage(): Promise<number> {
  const response = await stack.request(account, 'POST', '/api/v1/messages/email', {
    name: 'Promo',
    subject: 'A code for $!contact.firstName',
    htmlText: promoHtml,
    jsonParamField: '${jsonParam}',
    tags: ['promo'],
  });
  expect(response.status).toBe(201);
  return response.body.id as number;
}

async function smartsend(
  messageId: number,
  contactId: number,
): Promise<{ status: string; sendId?: number; error?: { code: string; message: string } }> {
  const response = await stack.request(account, 'POST', `/api/v1/message/${messageId}/smartsend`, { recipients: [{ contactId, jsonParam }] });
  expect(response.status).toBe(200);
  return response.body.results[0];
}

async function caughtFor(address: string): Promise<CaughtEmail> {
  const to = (message: CaughtEmail) => message.envelope.to.some((recipient) => recipient.toLowerCase() === address.toLowerCase());
  await waitUntil(async () => sink.messages.some(to), `an email to ${address}`, 15_000);
  return sink.messages.find(to)!;
}

interface ActivityRow {
  activity_status: string;
  iid: string;
  hard_bounce: boolean | null;
  status_description: string | null;
  click_event_link: string | null;
  message_id: number;
  message_instance_id: number;
}

async function activitiesOf(contactId: number): Promise<ActivityRow[]> {
  const { rows } = await stack.platform.db.query<ActivityRow>(
    'SELECT activity_status, iid::text AS iid, hard_bounce, status_description, click_event_link, message_id, message_instance_id FROM contact_activities WHERE contact_id = $1 ORDER BY id',
    [contactId],
  );
  return rows;
}

async function waitForActivity(contactId: number, status: string): Promise<ActivityRow> {
  await waitUntil(
    async () => (await activitiesOf(contactId)).some((row) => row.activity_status === status),
    `${status} for contact ${contactId}`,
    15_000,
  );
  return (await activitiesOf(contactId)).find((row) => row.activity_status === status)!;
}

describe('email over SMTP', () => {
  it('delivers the seed promo-code email with its headers, HTML, text, tracking and unsubscribe links, then records DELIVERED with the send’s iid', async () => {
    const contactId = await createContact('kozak@example.com');
    const messageId = await promoMessage();
    const result = await smartsend(messageId, contactId);
    expect(result.status).toBe('OK');

    const email = await caughtFor('kozak@example.com');
    expect(email.subject).toBe('A code for Dina');
    expect(email.from).toBe('"Example Shop" <shop@example.com>');
    expect(email.replyTo).toBe('care@example.com');
    expect(email.messageId).toBe(`<send-${result.sendId}.${account.accountId}@example.com>`);
    expect(email.headers['list-unsubscribe']).toMatch(
      new RegExp(`^<${stack.url}/t/unsubscribe/${account.accountId}\\.${result.sendId}\\.[\\w-]{22}>$`),
    );
    expect(email.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(email.html).toContain('Dina Kozak: <b>AAAA-BBBB-DDDD</b>');
    expect(email.html).toContain(`${stack.url}/t/click/`);
    expect(email.html).not.toContain('href="https://shop.example.com');
    expect(email.html).toMatch(/<img src="[^"]*\/t\/open\//);
    expect(email.text).toContain('Dina Kozak: AAAA-BBBB-DDDD');
    expect(email.text).toContain(`Unsubscribe: ${stack.url}/t/unsubscribe/`);

    // What a developer sees on the local-only mailbox route.
    const mailbox = await stack.request(undefined, 'GET', '/local/mailbox?to=kozak@example.com');
    expect(mailbox.status).toBe(200);
    expect(mailbox.body.messages).toEqual([
      expect.objectContaining({
        subject: 'A code for Dina',
        messageId: email.messageId,
        html: email.html,
        text: email.text,
        headers: expect.objectContaining({ 'list-unsubscribe-post': 'List-Unsubscribe=One-Click' }),
      }),
    ]);

    const delivered = await waitForActivity(contactId, 'DELIVERED');
    const sent = (await activitiesOf(contactId)).find((row) => row.activity_status === 'SENT')!;
    expect(delivered).toMatchObject({ iid: sent.iid, message_id: messageId, message_instance_id: result.sendId });
    const { rows } = await stack.platform.db.query('SELECT state, attempts FROM message_sends WHERE id = $1', [result.sendId]);
    expect(rows[0]).toEqual({ state: 'sent', attempts: 1 });
  });

  it('follows the email’s own links through a real HTTP client: the pixel records RECEIVED, a click CLICKED and redirects, nothing else redirects', async () => {
    const contactId = await createContact('reader@example.com');
    const result = await smartsend(await promoMessage(), contactId);
    const email = await caughtFor('reader@example.com');

    const pixel = /<img src="([^"]+)"/.exec(email.html ?? '')![1]!.replace(/&amp;/g, '&');
    const opened = await fetch(pixel);
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toBe('image/gif');
    expect(
      Buffer.from(await opened.arrayBuffer())
        .subarray(0, 6)
        .toString(),
    ).toBe('GIF89a');
    expect(await waitForActivity(contactId, 'RECEIVED')).toMatchObject({ message_instance_id: result.sendId });

    const tracked = /href="([^"]*\/t\/click\/[^"]+)"/.exec(email.html ?? '')![1]!.replace(/&amp;/g, '&');
    const clicked = await fetch(tracked, { redirect: 'manual' });
    expect(clicked.status).toBe(302);
    expect(clicked.headers.get('location')).toBe('https://shop.example.com/promo?code=AAAA-BBBB-DDDD&utm=email');
    expect(await waitForActivity(contactId, 'CLICKED')).toMatchObject({
      click_event_link: 'https://shop.example.com/promo?code=AAAA-BBBB-DDDD&utm=email',
    });

    // The same signed token with another target: no redirect, no activity.
    const elsewhere = tracked.replace(/\?url=.*$/, `?url=${encodeURIComponent('https://evil.example.net/')}`);
    const refused = await fetch(elsewhere, { redirect: 'manual' });
    expect(refused.status).toBe(404);
    expect(refused.headers.get('location')).toBeNull();
    const forged = await fetch(pixel.replace(/\.[\w-]{22}$/, '.AAAAAAAAAAAAAAAAAAAAAA'));
    expect(forged.status).toBe(404);
    expect((await activitiesOf(contactId)).filter((row) => row.activity_status === 'CLICKED' || row.activity_status === 'RECEIVED')).toHaveLength(2);
  });

  it('one-click unsubscribes (RFC 8058 POST), records UNSUBSCRIBED once, and later sends to the address are skipped with a reason until the suppression is lifted', async () => {
    const contactId = await createContact('leaver@example.com');
    const messageId = await promoMessage();
    await smartsend(messageId, contactId);
    const email = await caughtFor('leaver@example.com');
    const unsubscribeUrl = /^<(.+)>$/.exec(email.headers['list-unsubscribe']!)![1]!;

    const page = await fetch(unsubscribeUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    expect((await activitiesOf(contactId)).some((row) => row.activity_status === 'UNSUBSCRIBED')).toBe(false);

    for (let press = 0; press < 2; press += 1) {
      const oneClick = await fetch(unsubscribeUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(oneClick.status).toBe(200);
    }
    await waitForActivity(contactId, 'UNSUBSCRIBED');
    expect((await activitiesOf(contactId)).filter((row) => row.activity_status === 'UNSUBSCRIBED')).toHaveLength(1);
    const contact = await stack.platform.db.query('SELECT email_status FROM contacts WHERE id = $1', [contactId]);
    expect(contact.rows[0].email_status).toBe('UNSUBSCRIBED');

    const skipped = await smartsend(messageId, contactId);
    expect(skipped).toMatchObject({ status: 'ERROR', error: { code: 'EMAIL_SUPPRESSED', message: expect.stringContaining('unsubscribed') } });

    const listed = await stack.request(account, 'GET', '/api/v1/email/suppressions?address=Leaver@Example.com');
    expect(listed.body.suppressions).toEqual([expect.objectContaining({ address: 'leaver@example.com', reason: 'UNSUBSCRIBED' })]);
    expect((await stack.request(account, 'DELETE', '/api/v1/email/suppressions/leaver@example.com')).status).toBe(204);
    expect((await smartsend(messageId, contactId)).status).toBe('OK');
  });

  it('turns a 5xx rejection into UNDELIVERED with hardBounce true and suppresses the address; a 4xx is retried, then UNDELIVERED soft', async () => {
    const bouncing = await createContact('bounce-me@example.com');
    const messageId = await promoMessage();
    const result = await smartsend(messageId, bouncing);
    const undelivered = await waitForActivity(bouncing, 'UNDELIVERED');
    expect(undelivered).toMatchObject({ hard_bounce: true, message_instance_id: result.sendId, status_description: expect.stringContaining('550') });
    expect((await smartsend(messageId, bouncing)).error?.code).toBe('EMAIL_SUPPRESSED');
    expect(sink.messages.some((message) => message.envelope.to.includes('bounce-me@example.com'))).toBe(false);

    const flaky = await createContact('tempfail@example.com');
    const retried = await smartsend(messageId, flaky);
    const soft = await waitForActivity(flaky, 'UNDELIVERED');
    expect(soft).toMatchObject({ hard_bounce: false, status_description: expect.stringContaining('gave up after 2 tries') });
    const { rows } = await stack.platform.db.query('SELECT state, attempts FROM message_sends WHERE id = $1', [retried.sendId]);
    expect(rows[0]).toEqual({ state: 'failed', attempts: 2 });
    const suppressed = await stack.request(account, 'GET', '/api/v1/email/suppressions?address=tempfail@example.com');
    expect(suppressed.body.suppressions).toEqual([]);
  });

  it('keeps the SMTP password write-only and refuses settings that are not an address', async () => {
    const other = await stack.createAccount();
    const saved = await stack.request(other, 'PUT', '/api/v1/settings/email', {
      fromAddress: 'news@example.org',
      channel: { type: 'smtp', host: '127.0.0.1', port: 2525, username: 'relay-user', password: 's3cret-relay-pass' },
    });
    expect(saved.status).toBe(200);
    expect(saved.text).not.toContain('s3cret-relay-pass');
    expect(saved.body.channel).toEqual({
      type: 'smtp',
      host: '127.0.0.1',
      port: 2525,
      security: 'starttls',
      username: 'relay-user',
      passwordSet: true,
    });
    const bad = await stack.request(other, 'PUT', '/api/v1/settings/email', { fromAddress: 'not an address', channel: { type: 'ses' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect((await stack.request(other, 'GET', '/api/v1/settings/email')).body.fromAddress).toBe('news@example.org');
  });

  it('keeps seed 004’s unsubscribed list through /api/v1/emails/unsubscribed/add and /delete, the same suppressions sends honour', async () => {
    const contactId = await createContact('Listed@Example.com');
    const messageId = await promoMessage();
    expect((await stack.request(account, 'POST', '/api/v1/emails/unsubscribed/add', { emails: ['listed@example.com'] })).status).toBe(200);
    expect((await smartsend(messageId, contactId)).error?.code).toBe('EMAIL_SUPPRESSED');
    expect((await stack.request(account, 'POST', '/api/v1/emails/unsubscribed/add', { emails: ['not an address'] })).status).toBe(400);
    expect((await stack.request(account, 'POST', '/api/v1/emails/unsubscribed/delete', { emails: ['LISTED@example.com'] })).status).toBe(200);
    expect((await smartsend(messageId, contactId)).status).toBe('OK');
    await caughtFor('Listed@Example.com');
  });
});
