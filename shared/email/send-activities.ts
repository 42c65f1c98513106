import type { Pool, PoolClient } from 'pg';
import type { RecordedActivity } from '../activities/record';

/**
 * What every later activity of a send repeats from its SENT activity: the send's `iid`
 * (seed 001: one send, one iid, whatever happens to it), its message, broadcast or
 * workflow, and the event that triggered it.
 */
export interface SendOrigin {
  readonly sendId: number;
  readonly accountId: number;
  readonly contactId: number | null;
  readonly recipient: string;
  readonly channel: string | null;
  readonly state: string;
  readonly iid: string | null;
  readonly messageId: number;
  readonly messageName: string | null;
  readonly messageTags: string | null;
  readonly broadcastId: number | null;
  readonly workflowId: number | null;
  readonly campaignType: 'IM' | 'Group' | null;
  readonly messageLanguageCode: string | null;
  readonly sourceEventId: number | null;
  readonly sourceEventKey: string | null;
  readonly sourceEventTypeId: number | null;
  readonly sourceEventTypeKey: string | null;
}

/** Columns of message_sends `s` joined with its SENT activity `a` that make a `SendOrigin`. */
export const SEND_ORIGIN_COLUMNS = `
  s.id AS send_id, s.account_id, s.contact_id, s.recipient, s.channel, s.state, s.message_id, a.iid::text AS iid, a.message_name, a.message_tags,
  coalesce(s.broadcast_id, a.broadcast_id) AS broadcast_id, a.workflow_id, coalesce(a.campaign_type, s.campaign_type) AS campaign_type,
  a.message_language_code, a.source_event_id, a.source_event_key, a.source_event_type_id, a.source_event_type_key`;

export interface SendOriginRow {
  send_id: number;
  account_id: number;
  contact_id: number | null;
  recipient: string;
  channel: string | null;
  state: string;
  message_id: number;
  iid: string | null;
  message_name: string | null;
  message_tags: string | null;
  broadcast_id: number | null;
  workflow_id: number | null;
  campaign_type: 'IM' | 'Group' | null;
  message_language_code: string | null;
  source_event_id: number | null;
  source_event_key: string | null;
  source_event_type_id: number | null;
  source_event_type_key: string | null;
}

export function sendOriginOf(row: SendOriginRow): SendOrigin {
  return {
    sendId: row.send_id,
    accountId: row.account_id,
    contactId: row.contact_id,
    recipient: row.recipient,
    channel: row.channel,
    state: row.state,
    iid: row.iid,
    messageId: row.message_id,
    messageName: row.message_name,
    messageTags: row.message_tags,
    broadcastId: row.broadcast_id,
    workflowId: row.workflow_id,
    campaignType: row.campaign_type,
    messageLanguageCode: row.message_language_code,
    sourceEventId: row.source_event_id,
    sourceEventKey: row.source_event_key,
    sourceEventTypeId: row.source_event_type_id,
    sourceEventTypeKey: row.source_event_type_key,
  };
}

export async function findSendOrigins(db: Pool | PoolClient, where: { accountId: number; sendIds: readonly number[] }): Promise<SendOrigin[]> {
  const { rows } = await db.query<SendOriginRow>(
    `SELECT ${SEND_ORIGIN_COLUMNS} FROM message_sends s LEFT JOIN contact_activities a ON a.id = s.activity_id
      WHERE s.account_id = $1 AND s.id = ANY($2::bigint[]) ORDER BY s.id`,
    [where.accountId, where.sendIds],
  );
  return rows.map(sendOriginOf);
}

/** An activity of this send, with everything its SENT activity said about where it came from. */
export function sendActivity(
  origin: SendOrigin,
  activity: Pick<RecordedActivity, 'activityStatus' | 'activityDateTime'> &
    Partial<Pick<RecordedActivity, 'hardBounce' | 'statusDescription' | 'clickEventLink'>>,
): RecordedActivity {
  // 32-bit ids (seed 000's int columns): larger ones are left out rather than failing the export.
  const int = (value: number | null) => (value !== null && value <= 2_147_483_647 ? value : undefined);
  const fields: Record<string, unknown> = {
    ...activity,
    mediaType: 'Email',
    contactId: origin.contactId ?? undefined,
    iid: origin.iid ?? undefined,
    messageId: int(origin.messageId),
    messageInstanceId: int(origin.sendId),
    messageName: origin.messageName ?? undefined,
    messageTag: origin.messageTags ?? undefined,
    broadcastId: int(origin.broadcastId),
    workflowId: int(origin.workflowId),
    campaignType: origin.campaignType ?? undefined,
    messageLanguageCode: origin.messageLanguageCode ?? undefined,
    sourceEventId: int(origin.sourceEventId),
    sourceEventKey: origin.sourceEventKey ?? undefined,
    sourceEventTypeId: int(origin.sourceEventTypeId),
    sourceEventTypeKey: origin.sourceEventTypeKey ?? undefined,
  };
  for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
  return fields as unknown as RecordedActivity;
}

/** The origins whose contact still exists (an activity must name a contact of the account). */
export async function withLivingContacts(db: Pool | PoolClient, origins: readonly SendOrigin[]): Promise<SendOrigin[]> {
  const ids = origins.flatMap((origin) => (origin.contactId !== null ? [origin.contactId] : []));
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: number }>('SELECT id FROM contacts WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL', [ids]);
  const living = new Set(rows.map((row) => Number(row.id)));
  return origins.filter((origin) => origin.contactId !== null && living.has(Number(origin.contactId)));
}
