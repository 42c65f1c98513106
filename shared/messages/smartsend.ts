import { resolveRecipients, type Recipient, type RecipientContact } from '../contacts/resolve-recipients';
import { normalizeAddress, suppressedAmong, suppressedReasonMessage } from '../email/suppressions';
import type { Platform } from '../platform';
import { listSources, withSourceAliases } from '../sources/sources';
import type { TemplateError } from '../templates/render';
import { dataFromJsonParam } from './triggered-data';
import { getEmailMessage } from './messages';
import { recordSends, renderedSend, type SendToRecord } from './record-sends';
import { renderMessages, templateContact } from './render-message';
import { countRender } from './count-render';

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
export async function smartsend(
  platform: Platform,
  accountId: number,
  messageId: number,
  recipients: readonly SmartsendRecipient[],
): Promise<SmartsendResult[]> {
  const message = await getEmailMessage(platform.db, accountId, messageId);
  const resolved = await resolveRecipients(platform.db, accountId, recipients);
  const sources = await listSources(platform.db, accountId);
  const suppressed = await suppressedAmong(
    platform.db,
    accountId,
    resolved.flatMap((row) => (row.contact?.email ? [row.contact.email] : [])),
  );
  const results: SmartsendResult[] = [];
  const toRender: {
    readonly resultIndex: number;
    readonly contact: RecipientContact & { readonly email: string };
    readonly data: Record<string, unknown>;
  }[] = [];
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
    results.push({ ...base, contactId: contact.id, status: 'OK' });
    toRender.push({ resultIndex: results.length - 1, contact: { ...contact, email: contact.email }, data: withSourceAliases(data, sources) });
  }
  // Every recipient in one call to the render threads; a template failure fails its recipient only.
  const rendered = (
    await renderMessages(
      message,
      toRender.map(({ contact, data }) => ({ contact: templateContact(contact), data })),
      platform.config,
    )
  ).map((result) => countRender(platform.metrics, result));
  const sends: SendToRecord[] = [];
  const sendIndexes: number[] = [];
  toRender.forEach(({ resultIndex, contact }, index) => {
    const result = rendered[index];
    const entry = results[resultIndex];
    if (!result || !entry) return;
    if (!result.ok) {
      results[resultIndex] = { ...entry, status: 'ERROR', error: templateFailure(result.part, result.error) };
      return;
    }
    sendIndexes.push(resultIndex);
    sends.push(renderedSend(contact.id, contact.email, result));
  });
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
