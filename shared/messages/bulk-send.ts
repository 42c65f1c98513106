import { getConnector } from '../connectors/connections';
import { resolveRecipients } from '../contacts/resolve-recipients';
import type { Platform } from '../platform';
import { getConditionalGroup } from '../segments/conditional-groups';
import { evaluateSegment, keysOfContacts } from '../segments/evaluate-segment';
import { lookupRows, type Row } from '../sources/lookup';
import { listSources, type Source } from '../sources/sources';
import { getEmailMessage, type EmailMessage } from './messages';
import { recordSends, type SendToRecord } from './record-sends';
import { renderMessage, templateContact } from './render-message';
import { templateFailure, type SmartsendResult } from './smartsend';

/** Recipients rendered and recorded together: one lookup per source per batch. */
export const BULK_BATCH_SIZE = 1000;

export interface BroadcastResult {
  readonly broadcastId: number;
  readonly recipients: number;
  readonly sent: number;
  /** The first failures, per contact (a template error with its line and column, no email). */
  readonly failures: readonly Required<Pick<SmartsendResult, 'contactId' | 'error'>>[];
}

/** The sources a message reads: those whose name its templates mention. */
function sourcesReadBy(message: EmailMessage, sources: readonly Source[]): Source[] {
  const texts = [message.subject, message.htmlText, ...message.translations.flatMap((translation) => [translation.subject, translation.htmlText])].join('\n');
  return sources.filter((source) => texts.includes(source.name));
}

/**
 * A bulk campaign to a group: each member's message sees `$data.<sourceName>` = the rows of
 * that source whose unique-key column equals the member's mapped contact field, looked up
 * for a whole batch of members at once, never one query per contact.
 */
export async function sendToGroup(platform: Platform, accountId: number, messageId: number, groupId: number, name?: string): Promise<BroadcastResult> {
  const message = await getEmailMessage(platform.db, accountId, messageId);
  const group = await getConditionalGroup(platform.db, accountId, groupId);
  const members = await evaluateSegment(platform, accountId, group.conditions);
  const sources = sourcesReadBy(message, await listSources(platform.db, accountId));
  const connectors = new Map(await Promise.all(sources.map(async (source) => [source.id, await getConnector(platform.db, accountId, source.connectorId)] as const)));
  const { rows } = await platform.db.query<{ id: number }>(
    `INSERT INTO broadcasts (account_id, message_id, name, media_type, group_ids, status, started_at)
     VALUES ($1, $2, $3, 'Email', ARRAY[$4::bigint], 'RUNNING', $5) RETURNING id`,
    [accountId, messageId, name ?? `${message.name} → ${group.name}`, groupId, platform.clock.now()],
  );
  const broadcastId = rows[0]!.id;
  let sent = 0;
  const failures: { contactId: number; error: NonNullable<SmartsendResult['error']> }[] = [];

  for (let start = 0; start < members.length; start += BULK_BATCH_SIZE) {
    const batch = members.slice(start, start + BULK_BATCH_SIZE);
    const dataByContact = new Map<number, Record<string, Row[]>>(batch.map((id) => [id, {}]));
    for (const source of sources) {
      const connector = connectors.get(source.id)!;
      const keys = await keysOfContacts(platform.db, accountId, connector.uniqueKey.contactField, batch);
      const found = await lookupRows(platform, source, keys.flatMap((contact) => (contact.key === null ? [] : [contact.key])));
      for (const contact of keys) {
        const data = dataByContact.get(contact.contactId);
        if (data) Object.defineProperty(data, source.name, { value: contact.key === null ? [] : (found.get(contact.key) ?? []), enumerable: true });
      }
    }
    const resolved = await resolveRecipients(platform.db, accountId, batch.map((contactId) => ({ contactId })));
    const sends: SendToRecord[] = [];
    for (const row of resolved) {
      const contact = row.contact;
      if (!contact) continue;
      if (!contact.email) {
        if (failures.length < 100) failures.push({ contactId: contact.id, error: { code: 'NO_EMAIL', message: 'the contact has no email address' } });
        continue;
      }
      const rendered = renderMessage(message, templateContact(contact), dataByContact.get(contact.id) ?? {});
      if (!rendered.ok) {
        if (failures.length < 100) failures.push({ contactId: contact.id, error: templateFailure(rendered.part, rendered.error) });
        continue;
      }
      sends.push({ contactId: contact.id, recipient: contact.email, languageCode: rendered.languageCode, subject: rendered.subject, htmlText: rendered.htmlText, broadcastId });
    }
    sent += (await recordSends(platform, accountId, message, sends)).length;
  }
  await platform.db.query(`UPDATE broadcasts SET status = 'IDLE', updated_at = now() WHERE id = $1`, [broadcastId]);
  return { broadcastId, recipients: members.length, sent, failures };
}
