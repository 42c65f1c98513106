import * as z from 'zod';
import { recordActivities, type RecordedActivity } from '../activities/record';
import { ACCOUNT_TAG, SEND_ID_TAG } from '../ports/email-channel';
import { logger } from '../logger';
import type { Platform } from '../platform';
import { SEND_ORIGIN_COLUMNS, sendActivity, sendOriginOf, withLivingContacts, type SendOrigin, type SendOriginRow } from './send-activities';
import { suppressAddress } from './suppressions';

/**
 * SES's event records (configuration-set event publishing; "Contents of event data that
 * Amazon SES publishes to Amazon SNS"), only the fields Satellite reads: the rest passes.
 */
const timestamp = z.iso.datetime({ offset: true });
const mailSchema = z.looseObject({
  messageId: z.string().min(1),
  timestamp,
  destination: z.array(z.string()).default([]),
  tags: z.record(z.string(), z.array(z.string())).default({}),
});
const deliveryEvent = z.looseObject({
  eventType: z.literal('Delivery'),
  mail: mailSchema,
  delivery: z.looseObject({ timestamp, recipients: z.array(z.string()).default([]), smtpResponse: z.string().optional() }),
});
const bounceEvent = z.looseObject({
  eventType: z.literal('Bounce'),
  mail: mailSchema,
  bounce: z.looseObject({
    bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']),
    bounceSubType: z.string().default('General'),
    bouncedRecipients: z
      .array(z.looseObject({ emailAddress: z.string(), status: z.string().optional(), diagnosticCode: z.string().optional() }))
      .default([]),
    timestamp,
  }),
});
const complaintEvent = z.looseObject({
  eventType: z.literal('Complaint'),
  mail: mailSchema,
  complaint: z.looseObject({
    complainedRecipients: z.array(z.looseObject({ emailAddress: z.string() })).default([]),
    timestamp,
    complaintFeedbackType: z.string().optional(),
  }),
});
/** Send, Reject, Open, Click, DeliveryDelay, Rendering Failure, Subscription: not activities here (opens and clicks are tracked by Satellite's own links). */
const otherEvent = z.looseObject({ eventType: z.string(), mail: mailSchema });

export const sesEventSchema = z.union([deliveryEvent, bounceEvent, complaintEvent, otherEvent]);
export type SesEvent = z.output<typeof sesEventSchema>;

/**
 * One message of the email events queue, whichever way SES's event reached it: an SNS
 * notification (the `Message` string holds the event), SNS with raw delivery (the event
 * itself), or EventBridge (`detail` holds it). Identity notifications name the type
 * `notificationType`; it is read the same.
 */
export const sesEventMessageSchema = z.preprocess((body) => {
  let event: unknown = body;
  if (isRecord(event) && event.Type === 'Notification' && typeof event.Message === 'string') event = safeJson(event.Message);
  if (isRecord(event) && isRecord(event.detail) && typeof event['detail-type'] === 'string') event = event.detail;
  if (isRecord(event) && event.eventType === undefined && typeof event.notificationType === 'string')
    event = { ...event, eventType: event.notificationType };
  return event;
}, sesEventSchema);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The send an event is about: by the tags Satellite put on it, else by the message id SES answered. */
async function findSend(platform: Platform, event: SesEvent): Promise<SendOrigin | undefined> {
  const sendId = Number(event.mail.tags[SEND_ID_TAG]?.[0]);
  const accountId = Number(event.mail.tags[ACCOUNT_TAG]?.[0]);
  const byTags = Number.isSafeInteger(sendId) && sendId > 0 && Number.isSafeInteger(accountId) && accountId > 0;
  const { rows } = await platform.db.query<SendOriginRow>(
    `SELECT ${SEND_ORIGIN_COLUMNS} FROM message_sends s LEFT JOIN contact_activities a ON a.id = s.activity_id
      WHERE ${byTags ? 's.id = $1 AND s.account_id = $2' : 's.provider_message_id = $1'}`,
    byTags ? [sendId, accountId] : [event.mail.messageId],
  );
  return rows[0] ? sendOriginOf(rows[0]) : undefined;
}

/**
 * Turns one SES event into the send's activity: Delivery → DELIVERED, a permanent Bounce →
 * UNDELIVERED with hardBounce (and the address suppressed), a transient or undetermined one
 * → UNDELIVERED soft, Complaint → SPAM (suppressed too). A redelivered event records
 * nothing twice (same iid, status and time: the activity's report key).
 */
export async function applySesEvent(platform: Platform, event: SesEvent): Promise<'recorded' | 'ignored'> {
  if (event.eventType !== 'Delivery' && event.eventType !== 'Bounce' && event.eventType !== 'Complaint') return 'ignored';
  const origin = await findSend(platform, event);
  if (!origin) {
    // Mail the stack sent outside Satellite's sends (a test from the console), or a send deleted with its account.
    logger.info('SES event for no known send', { eventType: event.eventType, sesMessageId: event.mail.messageId });
    return 'ignored';
  }
  let activity: RecordedActivity;
  if (event.eventType === 'Delivery') {
    const delivery = (event as z.output<typeof deliveryEvent>).delivery;
    activity = sendActivity(origin, { activityStatus: 'DELIVERED', activityDateTime: new Date(delivery.timestamp) });
  } else if (event.eventType === 'Bounce') {
    const bounce = (event as z.output<typeof bounceEvent>).bounce;
    const recipient = bounce.bouncedRecipients[0];
    const hard = bounce.bounceType === 'Permanent';
    const description = (
      recipient?.diagnosticCode ?? [recipient?.status, `${bounce.bounceType} bounce (${bounce.bounceSubType})`].filter(Boolean).join(' ')
    ).slice(0, 1000);
    if (hard) await suppressAddress(platform.db, origin.accountId, origin.recipient, 'HARD_BOUNCE', { sendId: origin.sendId, detail: description });
    activity = sendActivity(origin, {
      activityStatus: 'UNDELIVERED',
      activityDateTime: new Date(bounce.timestamp),
      hardBounce: hard,
      statusDescription: description,
    });
  } else {
    const complaint = (event as z.output<typeof complaintEvent>).complaint;
    await suppressAddress(platform.db, origin.accountId, origin.recipient, 'SPAM', {
      sendId: origin.sendId,
      detail: complaint.complaintFeedbackType ?? 'complaint',
    });
    activity = sendActivity(origin, { activityStatus: 'SPAM', activityDateTime: new Date(complaint.timestamp) });
  }
  if ((await withLivingContacts(platform.db, [origin])).length === 0) return 'ignored';
  await recordActivities(platform, origin.accountId, [activity]);
  return 'recorded';
}
