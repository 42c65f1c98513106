import { startTextSink, type RunningTextSink } from '../../local/text-sink';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';
import { createHandler as createTextSweep } from '../../functions/sweep-sends/handler';

/**
 * SMS and Viber through the whole local stack: the API records and queues each send, the
 * texts worker hands it over, SMS by the stack's AWS End User Messaging adapter (the real
 * SDK) onto the local text sink, which speaks that API's wire format; Viber by its HTTP
 * adapter onto the sink's /viber. Outcomes come back as the send's activities and through
 * message/status.
 */
let stack: TestStack;
let sink: RunningTextSink;
let account: TestAccount;

beforeAll(async () => {
  sink = await startTextSink();
  stack = await startTestStack({
    env: { SMS_API_ENDPOINT: sink.url, VIBER_API_ENDPOINT: sink.url, SMS_SENDER_IDS: 'Kvitka,Promo', EMAIL_RETRY_BASE_SECONDS: '1' },
  });
  account = await stack.createAccount();
});
afterAll(async () => {
  await stack.stop();
  await sink.stop();
});

async function statusOf(requestId: string, path = '/api/v1/message/status') {
  return (await stack.request(account, 'GET', `${path}?ids=${requestId}`)).body.results[0];
}

/** The status of a send once the texts worker has settled it (PENDING while queued). */
async function settledStatusOf(requestId: string, path = '/api/v1/message/status') {
  await waitUntil(async () => !['PENDING', 'SENT'].includes((await statusOf(requestId, path))?.status), `send ${requestId} settled`, 15_000);
  return statusOf(requestId, path);
}

describe('SMS messages and sender IDs', () => {
  it('lists the stack’s sender IDs and the account’s SMS messages', async () => {
    expect((await stack.request(account, 'GET', '/api/v1/interfaces/sms')).body).toEqual([
      { type: 'sms', name: 'Kvitka', default: true },
      { type: 'sms', name: 'Promo', default: false },
    ]);
    const made = await stack.request(account, 'POST', '/api/v1/messages/sms', {
      name: 'Code',
      from: 'Kvitka',
      text: 'Your code: $!data.get("code")',
      tags: ['otp'],
    });
    expect(made.status).toBe(201);
    const listed = await stack.request(account, 'GET', '/api/v1/messages/sms');
    expect(listed.headers.get('totalcount')).toBe('1');
    expect(listed.body).toEqual([
      expect.objectContaining({ id: made.body.id, name: 'Code', from: 'Kvitka', text: 'Your code: $!data.get("code")', tags: ['otp'] }),
    ]);
    expect((await stack.request(account, 'GET', `/api/v1/messages/sms/${made.body.id}`)).body).toMatchObject({ name: 'Code' });
    expect((await stack.request(account, 'GET', '/api/v1/messages/sms/99999999')).status).toBe(404);
    expect((await stack.request(account, 'POST', '/api/v1/messages/sms', { name: 'x', from: 'Unknown', text: 'x' })).body.error.code).toBe(
      'SENDER_NOT_ALLOWED',
    );
    // Any right opens the general methods.
    expect((await stack.request(await stack.createAccount({ rights: 'events' }), 'GET', '/api/v1/interfaces/sms')).status).toBe(200);
  });
});

describe('POST message/sms and message/viber', () => {
  it('answers at once with a requestId per number; the texts worker sends each its rendered text and records DELIVERED or UNDELIVERED', async () => {
    const known = await stack.request(account, 'POST', '/api/v1/contact', {
      firstName: 'Taras',
      channels: [{ type: 'sms', value: '+380 95 649 09 55' }],
    });
    const sent = await stack.request(account, 'POST', '/api/v1/message/sms', {
      from: 'Promo',
      text: 'Hi $!contact.firstName, -20% today',
      phoneNumbers: ['+380956490955', '+48 600 700 800', '+999 1234 5678'],
      externalRequestId: 'crm-7',
    });
    expect(sent.status).toBe(200);
    const [taras, stranger, invalid] = sent.body.results;
    expect(taras).toMatchObject({
      locator: '380956490955',
      contactId: known.body.id,
      status: 'OK',
      externalRequestId: 'crm-7',
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(stranger).toMatchObject({ locator: '48600700800', status: 'OK' });
    // The provider's answer comes later, through message/status: the request only queued the send.
    expect(invalid).toMatchObject({ status: 'OK', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });

    expect(await settledStatusOf(taras.requestId)).toMatchObject({ status: 'DELIVERED' });
    expect(await settledStatusOf(stranger.requestId)).toMatchObject({ status: 'DELIVERED' });
    const caught = sink.messages.find((message) => message.to === '+380956490955')!;
    expect(caught).toMatchObject({ mediaType: 'SMS', from: 'Promo', text: 'Hi Taras, -20% today' });
    expect(caught.context).toEqual({ 'satellite-send': expect.stringMatching(/^\d+$/), 'satellite-account': String(account.accountId) });
    expect(sink.messages.find((message) => message.to === '+48600700800')!.text).toBe('Hi , -20% today');

    expect(await statusOf(taras.requestId)).toMatchObject({
      status: 'DELIVERED',
      mediaType: 'SMS',
      locator: '380956490955',
      events: [{ status: 'SENT' }, { status: 'DELIVERED' }],
    });
    expect(await settledStatusOf(invalid.requestId, '/api/v1/message/sms/status')).toMatchObject({
      status: 'UNDELIVERED',
      statusDescription: expect.stringContaining('is not a valid destination'),
    });
    expect((await stack.request(account, 'GET', `/api/v1/message/email/status?ids=${taras.requestId}`)).body.results).toEqual([]);

    const { rows } = await stack.platform.db.query(
      `SELECT activity_status, media_type, iid::text AS iid FROM contact_activities WHERE contact_id = $1 ORDER BY id`,
      [known.body.id],
    );
    expect(rows).toEqual([
      { activity_status: 'SENT', media_type: 'SMS', iid: taras.requestId },
      { activity_status: 'DELIVERED', media_type: 'SMS', iid: taras.requestId },
    ]);

    // The recipient's device reports a click on the SMS's link: the same send's activity.
    expect((await stack.request(account, 'PUT', `/api/v1/interactions/${taras.requestId}/status`, { status: 'CLICKED' })).status).toBe(200);
    expect(await statusOf(taras.requestId)).toMatchObject({ status: 'CLICKED', mediaType: 'SMS' });

    const today = new Date().toISOString().slice(0, 10);
    const callouts = await stack.request(account, 'GET', `/api/v1/callouts/sms?dateFrom=${today}&dateTo=${today}T23:59:59Z`);
    expect(callouts.body).toEqual([{ date: today, sent: 3, delivered: 2, undelivered: 1 }]);
    // A period backwards or longer than 93 days is refused, not read.
    for (const [dateFrom, dateTo] of [
      [today, '2000-01-01'],
      ['2026-01-01', '2026-04-05'],
    ]) {
      const refused = await stack.request(account, 'GET', `/api/v1/callouts/sms?dateFrom=${dateFrom}&dateTo=${dateTo}`);
      expect([refused.status, refused.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
  });

  it('sends Viber with its button, refuses unknown senders, and sits under the messages right', async () => {
    const sent = await stack.request(account, 'POST', '/api/v1/message/viber', {
      text: 'New arrivals',
      phoneNumbers: ['+380671112233'],
      buttonText: 'Open',
      buttonUrl: 'https://shop.example.com/new',
    });
    expect(sent.body.results[0]).toMatchObject({ status: 'OK' });
    expect(await settledStatusOf(sent.body.results[0].requestId, '/api/v1/message/viber/status')).toMatchObject({
      status: 'DELIVERED',
      mediaType: 'Viber',
    });
    expect(sink.messages.find((message) => message.mediaType === 'Viber')).toMatchObject({
      from: 'Kvitka',
      to: '380671112233',
      text: 'New arrivals',
    });
    const contact = await stack.request(account, 'GET', `/api/v1/contact/${sent.body.results[0].contactId}`);
    expect(contact.body.channels).toEqual([
      { type: 'sms', value: '380671112233' },
      { type: 'viber', value: '380671112233' },
    ]);

    expect(
      (await stack.request(account, 'POST', '/api/v1/message/sms', { from: 'Other', text: 'x', phoneNumbers: ['+380671112233'] })).body.error.code,
    ).toBe('SENDER_NOT_ALLOWED');
    expect((await stack.request(account, 'POST', '/api/v1/message/sms', { text: 'x', phoneNumbers: ['not a phone'] })).status).toBe(400);
    expect(
      (await stack.request(account, 'POST', '/api/v1/message/viber', { text: 'x', phoneNumbers: ['+380671112233'], buttonText: 'Open' })).status,
    ).toBe(400);
    const contactsOnly = await stack.createAccount({ rights: 'eventsAndContacts' });
    expect((await stack.request(contactsOnly, 'POST', '/api/v1/message/sms', { text: 'x', phoneNumbers: ['+380671112233'] })).status).toBe(403);
  });
});

describe('a provider failing for now', () => {
  it('is retried by the texts queue: the send is delivered once the provider recovers, and counted as two tries', async () => {
    sink.failNext(1);
    const sent = await stack.request(account, 'POST', '/api/v1/message/sms', { text: 'Retry me', phoneNumbers: ['+380501234567'] });
    expect(sent.body.results[0]).toMatchObject({ status: 'OK' });
    const { requestId } = sent.body.results[0];
    expect(await settledStatusOf(requestId)).toMatchObject({ status: 'DELIVERED', events: [{ status: 'SENT' }, { status: 'DELIVERED' }] });
    expect(sink.messages.filter((message) => message.to === '+380501234567')).toHaveLength(1);
    const { rows } = await stack.platform.db.query(
      `SELECT t.state, t.attempts, t.last_error FROM text_sends t JOIN contact_activities a ON a.id = t.activity_id WHERE a.iid::text = $1`,
      [requestId],
    );
    expect(rows).toEqual([{ state: 'sent', attempts: 2, last_error: null }]);
  });

  it('gives up after the last try with UNDELIVERED, as email does', async () => {
    const giving = await startTestStack({
      env: { SMS_API_ENDPOINT: sink.url, SMS_SENDER_IDS: 'Kvitka', EMAIL_RETRY_BASE_SECONDS: '1', EMAIL_MAX_ATTEMPTS: '2' },
    });
    try {
      const owner = await giving.createAccount();
      sink.failNext(2);
      const sent = await giving.request(owner, 'POST', '/api/v1/message/sms', { text: 'Never', phoneNumbers: ['+380507654321'] });
      const { requestId } = sent.body.results[0];
      const status = async () => (await giving.request(owner, 'GET', `/api/v1/message/status?ids=${requestId}`)).body.results[0];
      await waitUntil(async () => (await status())?.status === 'UNDELIVERED', 'the send given up', 15_000);
      expect(await status()).toMatchObject({ statusDescription: expect.stringContaining('gave up after 2 tries') });
      expect(sink.messages.filter((message) => message.to === '+380507654321')).toEqual([]);
    } finally {
      sink.failNext(0);
      await giving.stop();
    }
  });
});

describe('the text sweep', () => {
  it('queues again a send whose queue message was lost, and closes a claim a crashed worker left without sending it again', async () => {
    const sent = await stack.request(account, 'POST', '/api/v1/message/sms', { text: 'First', phoneNumbers: ['+380631110000'] });
    await settledStatusOf(sent.body.results[0].requestId);
    // Two sends as a failed enqueue and a crashed worker leave them: pending long past due, and claimed long ago.
    const { rows } = await stack.platform.db.query(
      `INSERT INTO text_sends (account_id, message_id, contact_id, media_type, sender, recipient, text, state, due_at, claimed_at)
       SELECT account_id, message_id, contact_id, media_type, sender, v.recipient, v.text, v.state, now() - interval '10 minutes', v.claimed_at
         FROM text_sends, (VALUES ('380631110001', 'Lost', 'pending', NULL::timestamptz), ('380631110002', 'Crashed', 'sending', now() - interval '2 hours'))
              AS v(recipient, text, state, claimed_at)
        WHERE text_sends.recipient = '380631110000'
       RETURNING id, state`,
    );
    expect(rows.map((row) => row.state).sort()).toEqual(['pending', 'sending']);
    await createTextSweep(stack.platform)({} as never, {} as never);
    await waitUntil(async () => sink.messages.some((message) => message.to === '+380631110001'), 'the lost send delivered', 15_000);
    const after = await stack.platform.db.query(`SELECT recipient, state FROM text_sends WHERE id = ANY($1::bigint[]) ORDER BY recipient`, [
      rows.map((row) => row.id),
    ]);
    await waitUntil(async () => {
      const states = await stack.platform.db.query(`SELECT state FROM text_sends WHERE recipient = '380631110001'`);
      return states.rows[0]?.state === 'sent';
    }, 'the lost send settled');
    expect(after.rows.find((row) => row.recipient === '380631110002')).toEqual({ recipient: '380631110002', state: 'failed' });
    expect(sink.messages.some((message) => message.to === '+380631110002')).toBe(false);
  });
});
