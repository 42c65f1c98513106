import { recordActivities } from '../activities/record';
import { queueSends } from '../email/deliver-sends';
import { logger } from '../logger';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';
import type { EmailMessage } from './messages';
import type { RenderedMessage } from './render-message';

export interface SendToRecord {
  readonly contactId: number;
  readonly recipient: string;
  readonly languageCode: string | null;
  readonly subject: string;
  readonly htmlText: string;
  /** The rendered text template, when the message has one. */
  readonly plainText?: string;
  readonly sourceEventId?: number;
  readonly sourceEventKey?: string;
  readonly sourceEventTypeId?: number;
  readonly sourceEventTypeKey?: string;
  readonly workflowId?: number;
  readonly broadcastId?: number;
}

/** Where a send came from: the workflow and event of a triggered one, the broadcast of a bulk one. */
export type SendOrigin = Omit<SendToRecord, 'contactId' | 'recipient' | 'languageCode' | 'subject' | 'htmlText' | 'plainText'>;

/** The send of a message rendered for one recipient. */
export function renderedSend(
  contactId: number,
  recipient: string,
  rendered: Extract<RenderedMessage, { ok: true }>,
  origin: SendOrigin = {},
): SendToRecord {
  return {
    contactId,
    recipient,
    languageCode: rendered.languageCode,
    subject: rendered.subject,
    htmlText: rendered.htmlText,
    ...(rendered.plainText !== undefined ? { plainText: rendered.plainText } : {}),
    ...origin,
  };
}

/**
 * Records rendered messages: one outbox row per send (what delivery drains) and one SENT
 * activity per send (what webhooks, exports and contact statistics see). Activities are
 * recorded by their own capability in their own transaction; if that fails, the outbox
 * rows are removed again so a send is never half recorded. Then the sends are queued for
 * delivery (the emails queue); if that fails, the sweep queues them a few minutes later.
 * Returns the send ids in order.
 */
export async function recordSends(platform: Platform, accountId: number, message: EmailMessage, sends: readonly SendToRecord[]): Promise<number[]> {
  if (sends.length === 0) return [];
  const campaignType = sends[0]?.broadcastId !== undefined ? 'Group' : 'IM';
  const sendIds = await withTransaction(platform.db, async (client) => {
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO message_sends (account_id, message_id, contact_id, campaign_type, recipient, language_code, subject, html_text, source_event_id, broadcast_id, plain_text, due_at)
       SELECT $1, $2, s.contact_id, $3, s.recipient, s.language_code, s.subject, s.html_text, s.source_event_id, s.broadcast_id, s.plain_text, $12
         FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[]) WITH ORDINALITY
              AS s(contact_id, recipient, language_code, subject, html_text, source_event_id, broadcast_id, plain_text, ordinality)
        ORDER BY s.ordinality
       RETURNING id`,
      [
        accountId,
        message.id,
        campaignType,
        sends.map((send) => send.contactId),
        sends.map((send) => send.recipient),
        sends.map((send) => send.languageCode),
        sends.map((send) => send.subject),
        sends.map((send) => send.htmlText),
        sends.map((send) => send.sourceEventId ?? null),
        sends.map((send) => send.broadcastId ?? null),
        sends.map((send) => send.plainText ?? null),
        platform.clock.now(),
      ],
    );
    return rows.map((row) => row.id).sort((a, b) => a - b);
  });
  try {
    const now = platform.clock.now();
    const activityIds = await recordActivities(
      platform,
      accountId,
      sends.map((send, index) => ({
        activityStatus: 'SENT' as const,
        mediaType: 'Email',
        campaignType,
        ...(send.languageCode !== null ? { messageLanguageCode: send.languageCode } : {}),
        activityDateTime: now,
        contactId: send.contactId,
        messageId: message.id,
        messageInstanceId: sendIds[index],
        messageName: message.name.slice(0, 100),
        ...(message.tags.length > 0 ? { messageTag: message.tags.join(',').slice(0, 200) } : {}),
        ...(send.broadcastId !== undefined ? { broadcastId: send.broadcastId } : {}),
        ...(send.workflowId !== undefined ? { workflowId: send.workflowId } : {}),
        ...(send.sourceEventId !== undefined ? { sourceEventId: send.sourceEventId } : {}),
        ...(send.sourceEventKey !== undefined ? { sourceEventKey: send.sourceEventKey } : {}),
        ...(send.sourceEventTypeId !== undefined ? { sourceEventTypeId: send.sourceEventTypeId } : {}),
        ...(send.sourceEventTypeKey !== undefined ? { sourceEventTypeKey: send.sourceEventTypeKey } : {}),
      })),
    );
    await platform.db.query(
      `UPDATE message_sends s SET activity_id = a.activity_id
         FROM unnest($1::bigint[], $2::bigint[]) AS a(send_id, activity_id) WHERE s.id = a.send_id`,
      [sendIds, activityIds],
    );
  } catch (error) {
    await platform.db.query('DELETE FROM message_sends WHERE id = ANY($1::bigint[])', [sendIds]);
    throw error;
  }
  await queueSends(platform, accountId, sendIds).catch((error: unknown) =>
    logger.warn('email sends not queued yet; the sweep queues them', { accountId, sends: sendIds.length, error: String(error) }),
  );
  return sendIds;
}
