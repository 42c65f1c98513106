import { resolveRecipients, type Recipient } from '../contacts/resolve-recipients';
import { normalizeAddress, suppressedAmong, suppressedReasonMessage } from '../email/suppressions';
import type { Platform } from '../platform';
import type { TemplateError } from '../templates/render';
import { dataFromJsonParam } from '../trigger-events/json-param';
import { getEmailMessage } from './messages';
import { recordSends, type SendToRecord } from './record-sends';
import { renderMessage, templateContact } from './render-message';

export interface SmartsendRecipient extends Recipient {
  /** JSON text whose object becomes `$data` for this recipient. */
  readonly jsonParam?: string;
}

export interface SmartsendResult {
  readonly index: number;
  readonly status: 'OK' | 'ERROR';
  readonly contactId?: number;
  readonly locator?: string;
  readonly sendId?: number;
  readonly error?: { readonly code: string; readonly message: string; readonly line?: number; readonly column?: number };
}

export const MAX_SMARTSEND_RECIPIENTS = 1000;

/**
 * Sends a prepared message to each recipient (seed 002's priority contactId >
 * externalCustomerId > locator), rendered with that recipient's own `jsonParam` as `$data`.
 * Each recipient succeeds or fails on its own row; the sends that succeed are recorded
 * together (an outbox row and a SENT activity each).
 */
export async function smartsend(platform: Platform, accountId: number, messageId: number, recipients: readonly SmartsendRecipient[]): Promise<SmartsendResult[]> {
  const message = await getEmailMessage(platform.db, accountId, messageId);
  const resolved = await resolveRecipients(platform.db, accountId, recipients);
  const suppressed = await suppressedAmong(platform.db, accountId, resolved.flatMap((row) => (row.contact?.email ? [row.contact.email] : [])));
  const results: SmartsendResult[] = [];
  const sends: SendToRecord[] = [];
  const sendIndexes: number[] = [];
  for (const row of resolved) {
    const recipient = recipients[row.index];
    const base = { index: row.index, ...(recipient?.locator !== undefined ? { locator: recipient.locator } : {}) };
    const contact = row.contact;
    if (!contact) {
      results.push({ ...base, status: 'ERROR', error: row.error ?? { code: 'CONTACT_NOT_FOUND', message: 'contact not found' } });
      continue;
    }
    const failed = (error: SmartsendResult['error']): void => {
      results.push({ ...base, contactId: contact.id, status: 'ERROR', error });
    };
    if (!contact.email) {
      failed({ code: 'NO_EMAIL', message: 'the contact has no email address' });
      continue;
    }
    const suppression = suppressed.get(normalizeAddress(contact.email));
    if (suppression) {
      failed({ code: 'EMAIL_SUPPRESSED', message: suppressedReasonMessage[suppression] });
      continue;
    }
    const data = dataFromJsonParam(recipient?.jsonParam);
    if (!data) {
      failed({ code: 'INVALID_JSON_PARAM', message: 'jsonParam must be the JSON text of an object' });
      continue;
    }
    const rendered = renderMessage(message, templateContact(contact), data);
    if (!rendered.ok) {
      failed(templateFailure(rendered.part, rendered.error));
      continue;
    }
    results.push({ ...base, contactId: contact.id, status: 'OK' });
    sendIndexes.push(results.length - 1);
    sends.push({ contactId: contact.id, recipient: contact.email, languageCode: rendered.languageCode, subject: rendered.subject, htmlText: rendered.htmlText, ...(rendered.plainText !== undefined ? { plainText: rendered.plainText } : {}) });
  }
  const sendIds = await recordSends(platform, accountId, message, sends);
  sendIndexes.forEach((resultIndex, sendIndex) => {
    const result = results[resultIndex];
    if (result) results[resultIndex] = { ...result, sendId: sendIds[sendIndex] };
  });
  return results.sort((a, b) => a.index - b.index);
}

export function templateFailure(part: string, error: TemplateError): NonNullable<SmartsendResult['error']> {
  const where = error.line !== undefined ? ` at line ${error.line}, column ${error.column}` : '';
  return {
    code: error.code,
    message: `the ${part} template failed${where}: ${error.message}`,
    ...(error.line !== undefined ? { line: error.line, column: error.column } : {}),
  };
}
