import * as z from 'zod';
import { normalizeEmail } from '../contacts/channels';
import { emailAddressSchema } from '../contacts/contact-schema';
import { resolveRecipients } from '../contacts/resolve-recipients';
import { addOrUpdateContact } from '../contacts/save-contact';
import { normalizeAddress, suppressedAmong, suppressedReasonMessage } from '../email/suppressions';
import type { Platform } from '../platform';
import { createEmailMessage, deleteEmailMessage, externalRequestIdSchema, messageTagsSchema, type EmailMessage } from './messages';
import { requestIdsOf } from './message-status';
import { recordSends, renderedSend, type SendToRecord } from './record-sends';
import { renderMessages, templateContact } from './render-message';
import { templateFailure } from './smartsend';

export const MAX_INSTANT_RECIPIENTS = 1000;

/** eSputnik's "send email message" (POST message/email). */
export const instantEmailSchema = z
  .object({
    /** `"Name" <address>` or a bare address; the account's sender when left out. */
    from: z.string().trim().min(3).max(200).optional(),
    subject: z.string().min(1).max(1000),
    htmlText: z.string().max(1_000_000),
    plainText: z.string().max(1_000_000).optional(),
    emails: z.array(emailAddressSchema).min(1).max(MAX_INSTANT_RECIPIENTS),
    tags: messageTagsSchema.optional(),
    externalRequestId: externalRequestIdSchema.optional(),
    /** Send the subject and HTML as given, without Velocity. */
    skipPersonalisation: z.boolean().default(false),
  })
  .strict();
export type InstantEmail = z.output<typeof instantEmailSchema>;

export interface InstantSendResult {
  readonly locator: string;
  readonly status: 'OK' | 'ERROR';
  /** The send's id for message/status and interactions (the iid of its activities). */
  readonly requestId?: string;
  readonly contactId?: number;
  readonly externalRequestId?: string;
  readonly message?: string;
  readonly errorCode?: string;
}

/** A template the send renders as given: Velocity escapes for `$` and `#` (`skipPersonalisation`). */
function literal(text: string): string {
  return `#[[${text.replace(/\]\]#/g, ']]#]]#[[')}]]#`;
}

/**
 * Instant email: the content comes with the call. An address no contact has yet becomes a
 * contact (as eSputnik does), each recipient is checked against the account's suppressions,
 * and the sends go the email channel's way (outbox, send queue, SENT and later activities).
 * The content is kept as a hidden message, so the sends and their activities name one, like
 * every other send; message lists leave it out.
 */
export async function sendInstantEmail(platform: Platform, accountId: number, request: InstantEmail): Promise<InstantSendResult[]> {
  const template = (text: string) => (request.skipPersonalisation ? literal(text) : text);
  const message: EmailMessage = await createEmailMessage(
    platform.db,
    accountId,
    {
      name: `Instant email: ${request.subject}`.slice(0, 200),
      from: request.from ?? null,
      subject: template(request.subject),
      htmlText: template(request.htmlText),
      plainText: request.plainText === undefined ? null : template(request.plainText),
      tags: request.tags ?? [],
    },
    platform.config,
  );
  await deleteEmailMessage(platform.db, accountId, message.id);

  const locators = [...new Map(request.emails.map((address) => [normalizeEmail(address) ?? address, address])).values()];
  const resolved = await resolveRecipients(
    platform.db,
    accountId,
    locators.map((locator) => ({ locator })),
  );
  const contacts = await Promise.all(
    resolved.map(async (row, index) => {
      if (row.contact) return row.contact;
      const saved = await addOrUpdateContact(platform.db, accountId, { channels: [{ type: 'email', value: locators[index]! }] });
      const [created] = await resolveRecipients(platform.db, accountId, [{ contactId: saved.id }]);
      return created?.contact;
    }),
  );
  const suppressed = await suppressedAmong(platform.db, accountId, locators);
  const extra = request.externalRequestId !== undefined ? { externalRequestId: request.externalRequestId } : {};
  const results: InstantSendResult[] = [];
  const toRender: { readonly resultIndex: number; readonly locator: string; readonly contact: NonNullable<(typeof contacts)[number]> }[] = [];
  for (const [index, locator] of locators.entries()) {
    const contact = contacts[index];
    if (!contact) {
      results.push({ locator, status: 'ERROR', errorCode: 'CONTACT_NOT_FOUND', message: 'the contact could not be created', ...extra });
      continue;
    }
    const reason = suppressed.get(normalizeAddress(locator));
    if (reason) {
      results.push({
        locator,
        contactId: contact.id,
        status: 'ERROR',
        errorCode: 'EMAIL_SUPPRESSED',
        message: suppressedReasonMessage[reason],
        ...extra,
      });
      continue;
    }
    results.push({ locator, contactId: contact.id, status: 'OK', ...extra });
    toRender.push({ resultIndex: results.length - 1, locator, contact });
  }
  // Every recipient in one call to the render threads, as smartsend does; a failure fails its recipient only.
  const rendered = await renderMessages(
    message,
    toRender.map(({ contact }) => ({ contact: templateContact(contact), data: {} })),
    platform.config,
  );
  const sends: SendToRecord[] = [];
  const sendResults: number[] = [];
  toRender.forEach(({ resultIndex, locator, contact }, index) => {
    const result = rendered[index];
    if (!result?.ok) {
      const failure = result ? templateFailure(result.part, result.error) : { code: 'TEMPLATE_RENDER_FAILED', message: 'the message did not render' };
      results[resultIndex] = { locator, contactId: contact.id, status: 'ERROR', errorCode: failure.code, message: failure.message, ...extra };
      return;
    }
    sendResults.push(resultIndex);
    sends.push(renderedSend(contact.id, locator, result));
  });
  const sendIds = await recordSends(platform, accountId, message, sends);
  const requestIds = await requestIdsOf(platform.db, sendIds);
  sendResults.forEach((resultIndex, sendIndex) => {
    const requestId = requestIds.get(sendIds[sendIndex]!);
    if (requestId) results[resultIndex] = { ...results[resultIndex]!, requestId };
  });
  return results;
}
