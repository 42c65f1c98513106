/** An activity in seed 001's shape: fields that do not apply are absent, never null. */
export type ActivityView = Readonly<Record<string, string | number | boolean | object>>;

export interface ActivityRow {
  id: number;
  iid: string;
  contact_id: number | null;
  activity_status: string;
  media_type: string;
  occurred_at: Date;
  external_customer_id: string | null;
  email: string | null;
  sms: string | null;
  viber: string | null;
  mobilepush: string | null;
  webpush: string | null;
  message_id: number | null;
  message_instance_id: number | null;
  message_name: string | null;
  message_tags: string | null;
  message_url: string | null;
  broadcast_id: number | null;
  click_event_link: string | null;
  status_description: string | null;
  hard_bounce: boolean | null;
  source_event_id: number | null;
  source_event_key: string | null;
  source_event_type_id: number | null;
  source_event_type_key: string | null;
  workflow_id: number | null;
  workflow_block_id: string | null;
  workflow_instance_id: string | null;
  subscriptions: string[] | null;
  status_data: Record<string, unknown>;
}

export function toActivityView(row: ActivityRow): ActivityView {
  const view: Record<string, string | number | boolean | object> = {
    iid: row.iid,
    activityStatus: row.activity_status,
    mediaType: row.media_type,
    activityDateTime: row.occurred_at.toISOString(),
    statusData: row.status_data,
  };
  const optional: [string, string | number | boolean | object | null][] = [
    ['contactId', row.contact_id],
    ['externalCustomerId', row.external_customer_id],
    ['email', row.email],
    ['sms', row.sms],
    ['viber', row.viber],
    ['mobilepush', row.mobilepush],
    ['webpush', row.webpush],
    ['messageId', row.message_id],
    ['messageInstanceId', row.message_instance_id],
    ['messageName', row.message_name],
    ['messageTag', row.message_tags],
    ['viewMessageLink', row.message_url],
    ['broadcastId', row.broadcast_id],
    ['clickEventLink', row.click_event_link],
    ['statusDescription', row.status_description],
    ['hardBounce', row.hard_bounce],
    ['sourceEventId', row.source_event_id],
    ['sourceEventKey', row.source_event_key],
    ['sourceEventTypeId', row.source_event_type_id],
    ['sourceEventTypeKey', row.source_event_type_key],
    ['workflowId', row.workflow_id],
    ['workflowBlockId', row.workflow_block_id],
    ['workflowInstanceId', row.workflow_instance_id],
    ['subscriptions', row.subscriptions],
  ];
  for (const [name, value] of optional) if (value !== null) view[name] = value;
  return view;
}
