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

/** Seed 001 writes times as `2023-09-14T08:30:03`: UTC, to the second, without a zone. */
function activityDateTime(at: Date): string {
  return at.toISOString().slice(0, 19);
}

/**
 * One activity as seed 001 defines it. Fields that do not apply are absent, never null:
 * `hardBounce` and `statusDescription` only for UNDELIVERED, `clickEventLink` only for
 * CLICKED. Keys follow the order of the seed's examples, so its two arrays come out
 * byte for byte. `subscriptons` keeps the seed's spelling: receivers are written against it.
 * Built key by key into one object (every delivered activity passes here: no intermediate
 * object of undefined fields, no entries array to filter).
 */
export function activityPayload(row: ActivityRow): ActivityPayload {
  const undelivered = row.activity_status === 'UNDELIVERED';
  const payload: ActivityPayload = {};
  if (row.broadcast_id !== null) payload.broadcastId = row.broadcast_id;
  if (row.message_name !== null) payload.messageName = row.message_name;
  if (row.workflow_id !== null) payload.workflowId = row.workflow_id;
  if (row.workflow_block_id !== null) payload.workflowBlockId = row.workflow_block_id;
  if (row.source_event_id !== null) payload.sourceEventId = row.source_event_id;
  if (row.source_event_key !== null) payload.sourceEventKey = row.source_event_key;
  if (row.source_event_type_id !== null) payload.sourceEventTypeId = row.source_event_type_id;
  if (row.source_event_type_key !== null) payload.sourceEventTypeKey = row.source_event_type_key;
  if (row.workflow_instance_id !== null) payload.workflowInstanceId = row.workflow_instance_id;
  if (undelivered) payload.hardBounce = row.hard_bounce ?? false;
  payload.iid = row.iid;
  if (row.contact_id !== null) payload.contactId = row.contact_id;
  if (row.external_customer_id !== null) payload.externalCustomerId = row.external_customer_id;
  if (row.email !== null) payload.email = row.email;
  if (row.sms !== null) payload.sms = row.sms;
  if (row.viber !== null) payload.viber = row.viber;
  if (row.mobilepush !== null) payload.mobilepush = row.mobilepush;
  if (row.webpush !== null) payload.webpush = row.webpush;
  payload.mediaType = webhookMediaType(row.media_type);
  payload.activityStatus = row.activity_status;
  if (row.message_id !== null) payload.messageId = row.message_id;
  if (row.message_instance_id !== null) payload.messageInstanceId = row.message_instance_id;
  if (row.message_tags !== null) payload.messageTag = row.message_tags;
  payload.activityDateTime = activityDateTime(row.occurred_at);
  if (row.activity_status === 'CLICKED' && row.click_event_link !== null) payload.clickEventLink = row.click_event_link;
  if (undelivered && row.status_description !== null) payload.statusDescription = row.status_description;
  if (row.message_url !== null) payload.viewMessageLink = row.message_url;
  if (row.subscriptions && row.subscriptions.length > 0) payload.subscriptons = row.subscriptions;
  payload.statusData = row.status_data ?? {};
  return payload;
}

const spelledAs = new Map<string, string>();

/**
 * A stored media type (seed 000's `Email`, `Web Push`) as seed 001's webhook examples spell it
 * (`email`, `viber`): lower-case letters and digits, the same words as a contact's channel types
 * (`webpush`, `mobilepush`). A receiver written against those examples compares byte for byte.
 */
export function webhookMediaType(stored: string): string {
  // A handful of stored spellings: each worked out once.
  let spelled = spelledAs.get(stored);
  if (spelled === undefined) {
    spelled = stored.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (spelledAs.size < 64) spelledAs.set(stored, spelled);
  }
  return spelled;
}
