import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { createHandler as createEmailEventsHandler } from '../../functions/email-events/handler';
import { startSesDouble, type SesDouble } from '../support/ses-double';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * Email through Amazon SES: the real SDK client against a double speaking SES v2's wire
 * format, and SES's event records (as SES publishes them to SNS) put on the stack's email
 * events queue, consumed by the events worker and delivered as activity webhooks.
 */
let stack: TestStack;
let ses: SesDouble;
let receiver: WebhookReceiver;
let account: TestAccount;

beforeAll(async () => {
  ses = await startSesDouble();
  receiver = await startWebhookReceiver();
  stack = await startTestStack({
    env: { EMAIL_CHANNEL: 'ses', SES_ENDPOINT: ses.endpoint, SES_CONFIGURATION_SET: 'satellite-events', EMAIL_RETRY_BASE_SECONDS: '1' },
  });
  account = await stack.createAccount();
  expect(
    (
      await stack.request(account, 'PUT', '/api/v1/settings/email', {
        fromAddress: 'news@shop.example.com',
        fromName: 'Shop',
        channel: { type: 'platform' },
      })
    ).status,
  ).toBe(200);
  expect((await stack.request(account, 'PUT', '/api/v1/webhook', { url: receiver.url })).status).toBe(200);
});
afterAll(async () => {
  await stack.stop();
  await ses.close();
  await receiver.close();
});

const jsonParam = JSON.stringify({ 1043: [{ id: '2', email: 'kozak@example.com', name: 'Dina Kozak', promo_code: 'AAAA-BBBB-DDDD' }] });

async function sendTo(emails: readonly string[]): Promise<{ messageId: number; sends: Map<string, { sendId: number; contactId: number }> }> {
  const message = await stack.request(account, 'POST', '/api/v1/messages/email', {
    name: 'Promo',
    subject: 'Your code',
    htmlText: "<p>#foreach($pc in $!data.get('1043'))$!pc.get('promo_code')#end</p><a href=\"https://shop.example.com/\">Shop</a>",
    jsonParamField: '${jsonParam}',
  });
  const sends = new Map<string, { sendId: number; contactId: number }>();
  for (const email of emails) {
    const contact = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: email }] });
    const sent = await stack.request(account, 'POST', `/api/v1/message/${message.body.id}/smartsend`, {
      recipients: [{ contactId: contact.body.id, jsonParam }],
    });
    expect(sent.body.results[0].status).toBe('OK');
    sends.set(email, { sendId: sent.body.results[0].sendId, contactId: contact.body.id });
  }
  return { messageId: message.body.id, sends };
}

async function acceptedBySes(sendId: number): Promise<string> {
  await waitUntil(
    async () => (await stack.platform.db.query("SELECT 1 FROM message_sends WHERE id = $1 AND state = 'sent'", [sendId])).rows.length === 1,
    `send ${sendId} accepted by SES`,
    15_000,
  );
  const { rows } = await stack.platform.db.query<{ provider_message_id: string }>('SELECT provider_message_id FROM message_sends WHERE id = $1', [
    sendId,
  ]);
  return rows[0]!.provider_message_id;
}

/** An SES event record as SES publishes it to SNS, wrapped in the SNS notification SQS receives. */
function snsNotification(event: Record<string, unknown>, sesMessageId: string, sendId: number, recipient: string): string {
  const record = {
    ...event,
    mail: {
      timestamp: '2026-12-06T10:00:00.000Z',
      source: 'Shop <news@shop.example.com>',
      sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/shop.example.com',
      sendingAccountId: '123456789012',
      messageId: sesMessageId,
      destination: [recipient],
      headersTruncated: false,
      tags: {
        'ses:configuration-set': ['satellite-events'],
        'ses:source-ip': ['192.0.2.0'],
        'ses:from-domain': ['shop.example.com'],
        'ses:caller-identity': ['satellite'],
        'satellite-send': [String(sendId)],
        'satellite-account': [String(account.accountId)],
      },
    },
  };
  return JSON.stringify({
    Type: 'Notification',
    MessageId: `sns-${sendId}-${String(event.eventType)}`,
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:satellite-email-events',
    Message: JSON.stringify(record),
    Timestamp: '2026-12-06T10:00:01.000Z',
    SignatureVersion: '1',
  });
}

async function publish(body: string): Promise<void> {
  await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrls.emailEvents, MessageBody: body }));
}

describe('email through Amazon SES', () => {
  it('calls SendEmail (v2) with the raw MIME message, the configuration set and the send’s tags, signed for SES', async () => {
    const { sends } = await sendTo(['kozak@example.com']);
    const { sendId } = sends.get('kozak@example.com')!;
    const sesMessageId = await acceptedBySes(sendId);

    const call = ses.calls.find((candidate) => candidate.answer === sesMessageId)!;
    expect(call.path).toBe('/v2/email/outbound-emails');
    expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/us-east-1\/ses\/aws4_request/);
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.body).toMatchObject({
      FromEmailAddress: 'news@shop.example.com',
      Destination: { ToAddresses: ['kozak@example.com'] },
      ConfigurationSetName: 'satellite-events',
      EmailTags: [
        { Name: 'satellite-send', Value: String(sendId) },
        { Name: 'satellite-account', Value: String(account.accountId) },
      ],
    });
    expect(call.mime).toMatch(/^From: "Shop" <news@shop\.example\.com>\r$/m);
    expect(call.mime).toContain(`Message-ID: <send-${sendId}.${account.accountId}@shop.example.com>`);
    expect(call.mime).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    expect(call.mime).toContain('AAAA-BBBB-DDDD');
    // SES reports the delivery itself: nothing is DELIVERED until its event arrives.
    const { rows } = await stack.platform.db.query(
      "SELECT 1 FROM contact_activities WHERE message_instance_id = $1 AND activity_status = 'DELIVERED'",
      [sendId],
    );
    expect(rows).toHaveLength(0);
  });

  it('turns SES Delivery, Bounce and Complaint events into DELIVERED, UNDELIVERED hard/soft and SPAM, delivered as seed 001 webhooks with the send’s iid', async () => {
    const { messageId, sends } = await sendTo(['happy@example.com', 'gone@example.com', 'full@example.com']);
    const happy = sends.get('happy@example.com')!;
    const gone = sends.get('gone@example.com')!;
    const full = sends.get('full@example.com')!;
    const ids = { happy: await acceptedBySes(happy.sendId), gone: await acceptedBySes(gone.sendId), full: await acceptedBySes(full.sendId) };

    const delivery = {
      eventType: 'Delivery',
      delivery: {
        timestamp: '2026-12-06T10:00:02.000Z',
        processingTimeMillis: 546,
        recipients: ['happy@example.com'],
        smtpResponse: '250 2.6.0 Message received',
        reportingMTA: 'a8-70.smtp-out.amazonses.com',
      },
    };
    const hardBounce = {
      eventType: 'Bounce',
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: [{ emailAddress: 'gone@example.com', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
        timestamp: '2026-12-06T10:00:03.000Z',
        feedbackId: '01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000',
        reportingMTA: 'dsn; mta.example.com',
      },
    };
    const softBounce = {
      eventType: 'Bounce',
      bounce: {
        bounceType: 'Transient',
        bounceSubType: 'MailboxFull',
        bouncedRecipients: [{ emailAddress: 'full@example.com', status: '4.2.2', action: 'failed' }],
        timestamp: '2026-12-06T10:00:04.000Z',
        feedbackId: 'f-2',
      },
    };
    const complaint = {
      eventType: 'Complaint',
      complaint: {
        complainedRecipients: [{ emailAddress: 'happy@example.com' }],
        timestamp: '2026-12-06T10:05:00.000Z',
        feedbackId: 'f-3',
        complaintFeedbackType: 'abuse',
        userAgent: 'ExampleCorp Feedback Loop (V0.01)',
        arrivalDate: '2026-12-06T10:04:59.000Z',
      },
    };
    await publish(snsNotification(delivery, ids.happy, happy.sendId, 'happy@example.com'));
    await publish(snsNotification(hardBounce, ids.gone, gone.sendId, 'gone@example.com'));
    await publish(snsNotification(softBounce, ids.full, full.sendId, 'full@example.com'));
    await publish(snsNotification(complaint, ids.happy, happy.sendId, 'happy@example.com'));
    // SQS delivers at least once: the same event again records nothing new.
    await publish(snsNotification(delivery, ids.happy, happy.sendId, 'happy@example.com'));

    const outcomes = () => receiver.acceptedActivities().filter((activity) => activity.activityStatus !== 'SENT');
    await receiver.waitFor(() => outcomes().length >= 4, 20_000);
    const iidOf = async (sendId: number) =>
      (
        await stack.platform.db.query<{ iid: string }>(
          "SELECT iid::text FROM contact_activities WHERE message_instance_id = $1 AND activity_status = 'SENT'",
          [sendId],
        )
      ).rows[0]!.iid;

    const byStatus = (status: string, contactId: number) =>
      outcomes().filter((activity) => activity.activityStatus === status && activity.contactId === contactId);
    expect(byStatus('DELIVERED', happy.contactId)).toEqual([
      expect.objectContaining({
        iid: await iidOf(happy.sendId),
        email: 'happy@example.com',
        mediaType: 'email',
        messageId,
        messageInstanceId: happy.sendId,
        messageName: 'Promo',
        activityDateTime: '2026-12-06T10:00:02',
      }),
    ]);
    expect(byStatus('DELIVERED', happy.contactId)[0]).not.toHaveProperty('hardBounce');
    expect(byStatus('UNDELIVERED', gone.contactId)).toEqual([
      expect.objectContaining({ iid: await iidOf(gone.sendId), hardBounce: true, statusDescription: 'smtp; 550 5.1.1 user unknown', messageId }),
    ]);
    expect(byStatus('UNDELIVERED', full.contactId)).toEqual([
      expect.objectContaining({ hardBounce: false, statusDescription: '4.2.2 Transient bounce (MailboxFull)' }),
    ]);
    expect(byStatus('SPAM', happy.contactId)).toEqual([expect.objectContaining({ iid: await iidOf(happy.sendId), messageId })]);
    expect(outcomes()).toHaveLength(4);

    const suppressions = await stack.request(account, 'GET', '/api/v1/email/suppressions');
    expect(suppressions.body.suppressions.map((entry: { address: string; reason: string }) => [entry.address, entry.reason]).sort()).toEqual([
      ['gone@example.com', 'HARD_BOUNCE'],
      ['happy@example.com', 'SPAM'],
    ]);
  });

  it('backs off when SES throttles and sends every recipient once; a rejected message is UNDELIVERED without suppressing the address', async () => {
    ses.failNext(6, { type: 'TooManyRequestsException', status: 429, message: 'Maximum sending rate exceeded.' });
    const { sends } = await sendTo(['slow1@example.com', 'slow2@example.com']);
    for (const { sendId } of sends.values()) await acceptedBySes(sendId);
    for (const address of ['slow1@example.com', 'slow2@example.com']) {
      expect(ses.calls.filter((call) => call.body.Destination?.ToAddresses?.[0] === address && !call.answer.endsWith('Exception'))).toHaveLength(1);
    }
    const { rows } = await stack.platform.db.query(
      "SELECT count(*)::int AS n FROM contact_activities WHERE activity_status = 'UNDELIVERED' AND message_instance_id = ANY($1::bigint[])",
      [[...sends.values()].map((send) => send.sendId)],
    );
    expect(rows[0].n).toBe(0);

    ses.failNext(1, { type: 'MessageRejected', status: 400, message: 'Email address is not verified.' });
    const rejected = await sendTo(['rejected@example.com']);
    const { contactId } = rejected.sends.get('rejected@example.com')!;
    await waitUntil(
      async () =>
        (await stack.platform.db.query("SELECT 1 FROM contact_activities WHERE contact_id = $1 AND activity_status = 'UNDELIVERED'", [contactId]))
          .rows.length === 1,
      'UNDELIVERED',
      15_000,
    );
    const activity = await stack.platform.db.query(
      'SELECT hard_bounce, status_description FROM contact_activities WHERE contact_id = $1 AND activity_status = $2',
      [contactId, 'UNDELIVERED'],
    );
    expect(activity.rows[0]).toEqual({ hard_bounce: false, status_description: 'MessageRejected: Email address is not verified.' });
    expect((await stack.request(account, 'GET', '/api/v1/email/suppressions?address=rejected@example.com')).body.suppressions).toEqual([]);
  });

  it('fails a record that is not an SES event (SQS dead-letters it after its receives) and accepts event types it does not track', async () => {
    const worker = createEmailEventsHandler(stack.platform);
    const record = (messageId: string, body: string): SQSRecord => ({
      messageId,
      receiptHandle: messageId,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'sns',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:emailEvents',
      awsRegion: 'us-east-1',
    });
    const open = JSON.stringify({
      Type: 'Notification',
      Message: JSON.stringify({
        eventType: 'Open',
        mail: { messageId: 'x', timestamp: '2026-12-06T10:00:00.000Z' },
        open: { ipAddress: '192.0.2.1' },
      }),
    });
    const result = await worker(
      { Records: [record('open', open), record('junk', '{"not":"an SES event"}')] },
      { getRemainingTimeInMillis: () => 30_000 },
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'junk' }]);
  });
});
