import type { Pool } from 'pg';
import * as z from 'zod';
import { recordActivities } from '../activities/record';
import { normalizePhone } from '../contacts/channels';
import { phoneNumberSchema } from '../contacts/contact-schema';
import { resolveRecipients, type RecipientContact } from '../contacts/resolve-recipients';
import { addOrUpdateContact } from '../contacts/save-contact';
import { AppError, ValidationFailed } from '../errors';
import { logger } from '../logger';
import type { Platform } from '../platform';
import { renderTemplate, templateSyntaxError } from '../templates/render';
import { queueTexts } from './deliver-texts';
import { MessageNotFound, TemplateInvalid } from './errors';
import type { InstantSendResult } from './instant-email';
import { externalRequestIdSchema, messageTagsSchema } from './messages';
import { templateContact } from './render-message';

export type TextMediaType = 'SMS' | 'Viber';
export const MAX_TEXT_RECIPIENTS = 1000;
/** A long SMS is split by the provider; past this many characters it is refused here, not billed as a dozen parts. */
const MAX_TEXT_CHARS = 1600;

/** An SMS message of the account (GET messages/sms): a Velocity text from a sender ID. */
export const smsMessageSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    from: z.string().trim().min(1).max(20).optional(),
    text: z.string().min(1).max(MAX_TEXT_CHARS),
    tags: messageTagsSchema.optional(),
  })
  .strict();
export type SmsMessageInput = z.output<typeof smsMessageSchema>;

export interface SmsMessage {
  readonly id: number;
  readonly name: string;
  readonly from: string | null;
  readonly text: string;
  readonly tags: readonly string[];
  readonly createdDate: string;
  readonly updatedDate: string;
}

interface SmsRow {
  id: number;
  name: string;
  sender: string | null;
  html_text: string;
  tags: string[];
  created_at: Date;
  updated_at: Date;
}

const toSmsMessage = (row: SmsRow): SmsMessage => ({
  id: Number(row.id),
  name: row.name,
  from: row.sender,
  text: row.html_text,
  tags: row.tags,
  createdDate: row.created_at.toISOString(),
  updatedDate: row.updated_at.toISOString(),
});

export async function createSmsMessage(platform: Platform, accountId: number, input: SmsMessageInput): Promise<SmsMessage> {
  const error = templateSyntaxError(input.text);
  if (error) throw new TemplateInvalid([{ path: 'body.text', error }]);
  if (input.from !== undefined) senderFor(platform, input.from);
  const { rows } = await platform.db.query<SmsRow>(
    `INSERT INTO messages (account_id, media_type, name, sender, html_text, tags) VALUES ($1, 'SMS', $2, $3, $4, $5)
     RETURNING id, name, sender, html_text, tags, created_at, updated_at`,
    [accountId, input.name, input.from ?? null, input.text, [...(input.tags ?? [])]],
  );
  return toSmsMessage(rows[0]!);
}

export async function listSmsMessages(
  db: Pool,
  accountId: number,
  page: { startIndex: number; maxRows: number },
): Promise<{ messages: SmsMessage[]; total: number }> {
  const [list, counted] = await Promise.all([
    db.query<SmsRow>(
      `SELECT id, name, sender, html_text, tags, created_at, updated_at FROM messages
        WHERE account_id = $1 AND media_type = 'SMS' AND deleted_at IS NULL ORDER BY id OFFSET $2 LIMIT $3`,
      [accountId, page.startIndex - 1, page.maxRows],
    ),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE account_id = $1 AND media_type = 'SMS' AND deleted_at IS NULL`, [
      accountId,
    ]),
  ]);
  return { messages: list.rows.map(toSmsMessage), total: counted.rows[0]?.n ?? 0 };
}

export async function getSmsMessage(db: Pool, accountId: number, id: number): Promise<SmsMessage> {
  const { rows } = await db.query<SmsRow>(
    `SELECT id, name, sender, html_text, tags, created_at, updated_at FROM messages WHERE account_id = $1 AND id = $2 AND media_type = 'SMS' AND deleted_at IS NULL`,
    [accountId, id],
  );
  if (!rows[0]) throw new MessageNotFound();
  return toSmsMessage(rows[0]);
}

const instantTextShape = {
  /** A sender ID of GET interfaces/sms; the first one when left out. */
  from: z.string().trim().min(1).max(20).optional(),
  text: z.string().min(1).max(MAX_TEXT_CHARS),
  phoneNumbers: z.array(phoneNumberSchema).min(1).max(MAX_TEXT_RECIPIENTS),
  tags: messageTagsSchema.optional(),
  externalRequestId: externalRequestIdSchema.optional(),
  skipPersonalisation: z.boolean().default(false),
};

/** eSputnik's "send SMS" (POST message/sms). */
export const instantSmsSchema = z.object(instantTextShape).strict();
/** eSputnik's "send Viber message" (POST message/viber): a text, optionally with a picture and a button. */
export const instantViberSchema = z
  .object({
    ...instantTextShape,
    imageUrl: z
      .url({ protocol: /^https$/ })
      .max(2000)
      .optional(),
    buttonText: z.string().trim().min(1).max(30).optional(),
    buttonUrl: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional(),
  })
  .strict()
  .refine((request) => (request.buttonText === undefined) === (request.buttonUrl === undefined), {
    message: 'give buttonText and buttonUrl together',
  });
export type InstantText = z.output<typeof instantSmsSchema> & { imageUrl?: string; buttonText?: string; buttonUrl?: string };

export class SenderNotAllowed extends AppError {
  constructor(sender: string, senders: readonly string[]) {
    super(
      'invalid',
      'SENDER_NOT_ALLOWED',
      `"${sender}" is not a sender ID of this stack; use one of GET /api/v1/interfaces/sms (${senders.join(', ') || 'none configured'})`,
    );
  }
}

export class NoTextSender extends AppError {
  constructor() {
    super('unprocessable', 'NO_SMS_SENDER', 'this stack has no SMS sender ID (SMS_SENDER_IDS)');
  }
}

function senderFor(platform: Platform, requested: string | undefined): string {
  const senders = platform.config.text.senders;
  if (requested === undefined) {
    if (!senders[0]) throw new NoTextSender();
    return senders[0];
  }
  if (!senders.includes(requested)) throw new SenderNotAllowed(requested, senders);
  return requested;
}

/** GET interfaces/sms: the sender IDs this stack sends SMS and Viber from. */
export function textInterfaces(platform: Platform): { type: 'sms'; name: string; default: boolean }[] {
  return platform.config.text.senders.map((name, index) => ({ type: 'sms' as const, name, default: index === 0 }));
}

/**
 * Instant SMS or Viber: each number's contact (made when none has it, as eSputnik does)
 * gets the text rendered for it, recorded as a pending send with its SENT activity, and
 * queued for the texts worker (`deliver-texts.ts`), which hands it to the channel and
 * records DELIVERED or UNDELIVERED with the same iid: the requestId that message/status
 * and webhooks follow. The answer comes at once, before the provider is reached.
 */
export async function sendTexts(platform: Platform, accountId: number, mediaType: TextMediaType, request: InstantText): Promise<InstantSendResult[]> {
  const sender = senderFor(platform, request.from);
  if (!request.skipPersonalisation) {
    const error = templateSyntaxError(request.text);
    if (error) throw new TemplateInvalid([{ path: 'body.text', error }]);
  }
  const { rows: created } = await platform.db.query<{ id: number }>(
    `INSERT INTO messages (account_id, media_type, name, sender, html_text, tags, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, now()) RETURNING id`,
    [accountId, mediaType, `Instant ${mediaType}`.slice(0, 200), sender, request.text, [...(request.tags ?? [])]],
  );
  const messageId = Number(created[0]!.id);
  const numbers = [...new Set(request.phoneNumbers.map((value) => normalizePhone(value)!))];
  const contacts = await contactsForNumbers(platform, accountId, numbers, mediaType);
  const extra = request.externalRequestId !== undefined ? { externalRequestId: request.externalRequestId } : {};

  const results: InstantSendResult[] = [];
  const sends: { resultIndex: number; contact: RecipientContact; to: string; text: string }[] = [];
  numbers.forEach((to, index) => {
    const contact = contacts[index];
    if (!contact) {
      results.push({ locator: to, status: 'ERROR', errorCode: 'CONTACT_NOT_FOUND', message: 'the contact could not be created', ...extra });
      return;
    }
    let text = request.text;
    if (!request.skipPersonalisation) {
      const rendered = renderTemplate(request.text, { contact: templateContact(contact), data: {} });
      if (!rendered.ok) {
        results.push({
          locator: to,
          contactId: contact.id,
          status: 'ERROR',
          errorCode: rendered.error.code,
          message: rendered.error.message,
          ...extra,
        });
        return;
      }
      text = rendered.output;
    }
    sends.push({ resultIndex: results.length, contact, to, text });
    results.push({ locator: to, contactId: contact.id, status: 'OK', ...extra });
  });
  if (sends.length === 0) return results;

  const { rows: inserted } = await platform.db.query<{ id: number }>(
    `INSERT INTO text_sends (account_id, message_id, contact_id, media_type, sender, recipient, text, image_url, button_text, button_url)
     SELECT $1, $2, s.contact_id, $3, $4, s.recipient, s.text, $8, $9, $10
       FROM unnest($5::bigint[], $6::text[], $7::text[]) WITH ORDINALITY AS s(contact_id, recipient, text, n)
     ORDER BY s.n RETURNING id`,
    [
      accountId,
      messageId,
      mediaType,
      sender,
      sends.map((send) => send.contact.id),
      sends.map((send) => send.to),
      sends.map((send) => send.text),
      request.imageUrl ?? null,
      request.buttonText ?? null,
      request.buttonUrl ?? null,
    ],
  );
  const sendIds = inserted.map((row) => Number(row.id)).sort((a, b) => a - b);
  // Without its SENT activity a send has no requestId to report: it never leaves (the caller may try again).
  let activityIds: number[];
  try {
    activityIds = await recordActivities(
      platform,
      accountId,
      sends.map((send, index) => ({
        mediaType,
        campaignType: 'IM',
        contactId: send.contact.id,
        messageId,
        messageInstanceId: sendIds[index],
        messageName: `Instant ${mediaType}`,
        ...(request.tags && request.tags.length > 0 ? { messageTag: request.tags.join(',').slice(0, 200) } : {}),
        activityStatus: 'SENT',
        activityDateTime: platform.clock.now(),
      })),
    );
    await platform.db.query(
      'UPDATE text_sends t SET activity_id = x.activity_id FROM unnest($1::bigint[], $2::bigint[]) AS x(id, activity_id) WHERE t.id = x.id',
      [sendIds, activityIds],
    );
  } catch (error) {
    await platform.db.query('DELETE FROM text_sends WHERE id = ANY($1::bigint[])', [sendIds]);
    throw error;
  }
  const { rows: iids } = await platform.db.query<{ id: number; iid: string }>(
    'SELECT id, iid::text AS iid FROM contact_activities WHERE id = ANY($1::bigint[])',
    [activityIds],
  );
  const iidOf = new Map(iids.map((row) => [Number(row.id), row.iid]));
  // The texts worker hands them over (and retries what the provider refuses for now); should
  // this enqueue fail, the sends stay pending and the text sweep queues them again.
  await queueTexts(platform, accountId, sendIds).catch((error: unknown) =>
    logger.warn('text sends not queued yet; the sweep queues them', { accountId, sends: sendIds.length, error: String(error) }),
  );
  sends.forEach((send, index) => {
    const requestId = iidOf.get(activityIds[index]!);
    if (requestId) results[send.resultIndex] = { ...results[send.resultIndex]!, requestId };
  });
  return results;
}

/** Each number's live contact, made (with the number as its SMS channel, and Viber's for Viber) when none has it. */
async function contactsForNumbers(
  platform: Platform,
  accountId: number,
  numbers: readonly string[],
  mediaType: TextMediaType,
): Promise<(RecipientContact | undefined)[]> {
  const resolved = await resolveRecipients(
    platform.db,
    accountId,
    numbers.map((to) => ({ locator: `+${to}` })),
  );
  return Promise.all(
    resolved.map(async (row, index) => {
      if (row.contact) return row.contact;
      const value = `+${numbers[index]!}`;
      const saved = await addOrUpdateContact(platform.db, accountId, {
        channels:
          mediaType === 'Viber'
            ? [
                { type: 'sms', value },
                { type: 'viber', value },
              ]
            : [{ type: 'sms', value }],
      });
      const [made] = await resolveRecipients(platform.db, accountId, [{ contactId: saved.id }]);
      return made?.contact;
    }),
  );
}

/** The longest period GET callouts/sms reads. */
const MAX_CALLOUT_DAYS = 93;

/** GET callouts/sms: the account's SMS sends per day, by outcome, over a period (at most `MAX_CALLOUT_DAYS`). */
export async function smsCallouts(
  db: Pool,
  accountId: number,
  period: { dateFrom: Date; dateTo: Date },
): Promise<{ date: string; sent: number; delivered: number; undelivered: number }[]> {
  if (period.dateTo < period.dateFrom || period.dateTo.getTime() - period.dateFrom.getTime() > MAX_CALLOUT_DAYS * 86_400_000) {
    throw new ValidationFailed(`dateFrom must come before dateTo, at most ${MAX_CALLOUT_DAYS} days apart`);
  }
  const { rows } = await db.query<{ day: string; sent: number; delivered: number; undelivered: number }>(
    `SELECT to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS sent,
            count(*) FILTER (WHERE state = 'sent')::int AS delivered, count(*) FILTER (WHERE state = 'failed')::int AS undelivered
       FROM text_sends WHERE account_id = $1 AND media_type = 'SMS' AND created_at >= $2 AND created_at <= $3
      GROUP BY 1 ORDER BY 1`,
    [accountId, period.dateFrom, period.dateTo],
  );
  return rows.map((row) => ({ date: row.day, sent: row.sent, delivered: row.delivered, undelivered: row.undelivered }));
}
