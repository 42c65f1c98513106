/** A `contact_activities` row as delivery reads it (the pool parses bigint to number). */
export interface ActivityRow {
  readonly id: number;
  readonly contact_id: number | null;
  readonly iid: string;
  readonly activity_status: string;
  readonly media_type: string;
  readonly occurred_at: Date;
  readonly external_customer_id: string | null;
  readonly email: string | null;
  readonly sms: string | null;
  readonly viber: string | null;
  readonly mobilepush: string | null;
  readonly webpush: string | null;
  readonly message_id: number | null;
  readonly message_instance_id: number | null;
  readonly message_name: string | null;
  readonly message_tags: string | null;
  readonly message_url: string | null;
  readonly broadcast_id: number | null;
  readonly click_event_link: string | null;
  readonly status_description: string | null;
  readonly hard_bounce: boolean | null;
  readonly source_event_id: number | null;
  readonly source_event_key: string | null;
  readonly source_event_type_id: number | null;
  readonly source_event_type_key: string | null;
  readonly workflow_id: number | null;
  readonly workflow_block_id: string | null;
  readonly workflow_instance_id: string | null;
  readonly subscriptions: string[] | null;
  readonly status_data: Record<string, unknown> | null;
}

export const activityColumns = `a.id, a.contact_id, a.iid, a.activity_status, a.media_type, a.occurred_at, a.external_customer_id,
  a.email, a.sms, a.viber, a.mobilepush, a.webpush, a.message_id, a.message_instance_id, a.message_name, a.message_tags,
  a.message_url, a.broadcast_id, a.click_event_link, a.status_description, a.hard_bounce, a.source_event_id,
  a.source_event_key, a.source_event_type_id, a.source_event_type_key, a.workflow_id, a.workflow_block_id,
  a.workflow_instance_id, a.subscriptions, a.status_data`;

export type ActivityPayload = Record<string, string | number | boolean | string[] | Record<string, unknown>>;

const integer = (value: number | null): number | undefined => (value === null ? undefined : value);
const text = (value: string | null): string | undefined => (value === null ? undefined : value);

/** Seed 001 writes times as `2023-09-14T08:30:03`: UTC, to the second, without a zone. */
function activityDateTime(at: Date): string {
  return at.toISOString().slice(0, 19);
}

/**
 * One activity as seed 001 defines it. Fields that do not apply are absent, never null:
 * `hardBounce` and `statusDescription` only for UNDELIVERED, `clickEventLink` only for
 * CLICKED. Keys follow the order of the seed's examples, so its two arrays come out
 * byte for byte. `subscriptons` keeps the seed's spelling: receivers are written against it.
 */
export function activityPayload(row: ActivityRow): ActivityPayload {
  const undelivered = row.activity_status === 'UNDELIVERED';
  const fields: Record<string, string | number | boolean | string[] | Record<string, unknown> | undefined> = {
    broadcastId: integer(row.broadcast_id),
    messageName: text(row.message_name),
    workflowId: integer(row.workflow_id),
    workflowBlockId: text(row.workflow_block_id),
    sourceEventId: integer(row.source_event_id),
    sourceEventKey: text(row.source_event_key),
    sourceEventTypeId: integer(row.source_event_type_id),
    sourceEventTypeKey: text(row.source_event_type_key),
    workflowInstanceId: text(row.workflow_instance_id),
    hardBounce: undelivered ? (row.hard_bounce ?? false) : undefined,
    iid: row.iid,
    contactId: integer(row.contact_id),
    externalCustomerId: text(row.external_customer_id),
    email: text(row.email),
    sms: text(row.sms),
    viber: text(row.viber),
    mobilepush: text(row.mobilepush),
    webpush: text(row.webpush),
    mediaType: webhookMediaType(row.media_type),
    activityStatus: row.activity_status,
    messageId: integer(row.message_id),
    messageInstanceId: integer(row.message_instance_id),
    messageTag: text(row.message_tags),
    activityDateTime: activityDateTime(row.occurred_at),
    clickEventLink: row.activity_status === 'CLICKED' ? text(row.click_event_link) : undefined,
    statusDescription: undelivered ? text(row.status_description) : undefined,
    viewMessageLink: text(row.message_url),
    subscriptons: row.subscriptions && row.subscriptions.length > 0 ? row.subscriptions : undefined,
    statusData: row.status_data ?? {},
  };
  const payload: ActivityPayload = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) payload[key] = value;
  return payload;
}

/**
 * A stored media type (seed 000's `Email`, `Web Push`) as seed 001's webhook examples spell it
 * (`email`, `viber`): lower-case letters and digits, the same words as a contact's channel types
 * (`webpush`, `mobilepush`). A receiver written against those examples compares byte for byte.
 */
export function webhookMediaType(stored: string): string {
  return stored.toLowerCase().replace(/[^a-z0-9]/g, '');
}
