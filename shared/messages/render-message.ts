import type { RecipientContact } from '../contacts/resolve-recipients';
import { freezeData, renderTemplate, type TemplateError } from '../templates/render';
import { versionFor, type EmailMessage } from './messages';

/** What a template sees as `$contact`. */
export interface TemplateContact {
  readonly id: number;
  readonly externalCustomerId: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly email: string | null;
  readonly sms: string | null;
  readonly languageCode: string | null;
}

export function templateContact(contact: RecipientContact): TemplateContact {
  return {
    id: contact.id,
    externalCustomerId: contact.externalCustomerId,
    firstName: contact.firstName,
    lastName: contact.lastName,
    email: contact.email,
    sms: contact.sms,
    languageCode: contact.languageCode,
  };
}

export type RenderedMessage =
  | { readonly ok: true; readonly languageCode: string | null; readonly subject: string; readonly htmlText: string; readonly plainText?: string }
  | { readonly ok: false; readonly part: 'subject' | 'htmlText' | 'plainText'; readonly error: TemplateError };

/**
 * Renders the contact's language version of a message with `$data` (external rows: by
 * source name in bulk sends, by source id from `jsonParam` in triggered ones) and `$contact`.
 */
export function renderMessage(message: EmailMessage, contact: TemplateContact, data: Readonly<Record<string, unknown>>): RenderedMessage {
  const version = versionFor(message, contact.languageCode);
  const variables = { data: freezeData(data), contact: freezeData({ ...contact }) };
  const subject = renderTemplate(version.subject, variables);
  if (!subject.ok) return { ok: false, part: 'subject', error: subject.error };
  const htmlText = renderTemplate(version.htmlText, variables);
  if (!htmlText.ok) return { ok: false, part: 'htmlText', error: htmlText.error };
  // The text part the email carries beside the HTML; without a template, delivery derives one from the HTML.
  if (!version.plainText) return { ok: true, languageCode: version.languageCode, subject: subject.output, htmlText: htmlText.output };
  const plainText = renderTemplate(version.plainText, variables);
  if (!plainText.ok) return { ok: false, part: 'plainText', error: plainText.error };
  return { ok: true, languageCode: version.languageCode, subject: subject.output, htmlText: htmlText.output, plainText: plainText.output };
}
