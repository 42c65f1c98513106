/**
 * The eight export datasets: every column of seed 000 (PostgreSQL types) and seed 003
 * (BigQuery types), where each value comes from in the platform tables, and the key that
 * makes each row addressable. Column and table names are the seeds' names, case kept.
 */
export const datasetNames = ['broadcasts', 'contactActivities', 'contacts', 'devices', 'messages', 'orderItems', 'orders', 'revenue'] as const;
export type DatasetName = (typeof datasetNames)[number];

export type BigQueryType = 'TIMESTAMP' | 'INT64' | 'STRING' | 'FLOAT64';

export interface DatasetColumn {
  readonly name: string;
  /** As seed 000 documents it (`varchar(max)` becomes `varchar`). */
  readonly postgresType: string;
  readonly bigQueryType: BigQueryType;
  /** SQL over the dataset's source aliases; timestamps are rendered by `timestamp()`. */
  readonly source: string;
}

export interface Dataset {
  readonly name: DatasetName;
  readonly columns: readonly DatasetColumn[];
  /** Primary key columns in the destination table. */
  readonly key: readonly string[];
  /** The platform table whose rows the export walks (alias `t`), keyed by `t.id`. */
  readonly drivingTable: string;
  /** Joins after `FROM <drivingTable> t`. */
  readonly joins: string;
  /** When the platform row was deleted (it stays, restorable), for rows that can be. */
  readonly deletedAt?: string;
}

/** Added by Satellite to every table: the platform change that wrote the row (only newer ones overwrite it). */
export const VERSION_COLUMN = 'satelliteVersion';

/**
 * Added by Satellite to the tables of rows the platform deletes softly (contacts, messages,
 * order items removed from their order, push tokens removed from their contact): when the
 * row was deleted, empty while it lives. A delete reaches the destination as a change like
 * any other, and a restore empties it again; no seed column says either. Rows are flagged
 * rather than deleted so that a destination keeps what a report joined to them (an
 * activity's message, an order's former items), the same way in every table.
 */
export const DELETED_COLUMN = 'satelliteDeletedAt';

/** Seed format `2021-10-08 11:11:02`, UTC, whole seconds. */
const timestamp = (expression: string) => `date_trunc('second', ${expression} AT TIME ZONE 'UTC')`;

function text(length: number | undefined, expression: string): { postgresType: string; bigQueryType: BigQueryType; source: string } {
  return length === undefined
    ? { postgresType: 'varchar', bigQueryType: 'STRING', source: expression }
    : { postgresType: `varchar(${length})`, bigQueryType: 'STRING', source: `left(${expression}, ${length})` };
}

const col = {
  text: (name: string, length: number | undefined, source: string): DatasetColumn => ({ name, ...text(length, source) }),
  int: (name: string, source: string): DatasetColumn => ({ name, postgresType: 'int', bigQueryType: 'INT64', source }),
  bigint: (name: string, source: string): DatasetColumn => ({ name, postgresType: 'bigint', bigQueryType: 'INT64', source }),
  numeric: (name: string, source: string): DatasetColumn => ({ name, postgresType: 'numeric', bigQueryType: 'FLOAT64', source }),
  timestamp: (name: string, source: string): DatasetColumn => ({
    name,
    postgresType: 'timestamp',
    bigQueryType: 'TIMESTAMP',
    source: timestamp(source),
  }),
  /** An integer the PostgreSQL seed documents as int that seed 003 documents as string. */
  intAsBigQueryString: (name: string, source: string): DatasetColumn => ({ name, postgresType: 'int', bigQueryType: 'STRING', source }),
};

const contactEmail = `(SELECT ch.value FROM contact_channels ch WHERE ch.contact_id = t.id AND ch.type = 'email' ORDER BY ch.position, ch.id LIMIT 1)`;
/**
 * The latest delivery outcome recorded for the contact's current email: DELIVERED, UNDELIVERED
 * (a hard bounce only; a soft one says nothing lasting about the address), SPAM or
 * UNSUBSCRIBED. An email with none keeps the status stored on the contact, if any.
 */
const contactEmailStatus = `coalesce((SELECT a.activity_status FROM contact_activities a
   WHERE a.contact_id = t.id AND a.media_type = 'Email' AND lower(a.email) = lower(${contactEmail})
     AND (a.activity_status IN ('DELIVERED', 'SPAM', 'UNSUBSCRIBED') OR (a.activity_status = 'UNDELIVERED' AND a.hard_bounce))
   ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1), t.email_status)`;
const contactSms = `(SELECT ch.value FROM contact_channels ch WHERE ch.contact_id = t.id AND ch.type = 'sms' ORDER BY ch.position, ch.id LIMIT 1)`;

const datasetList: readonly Dataset[] = [
  {
    name: 'broadcasts',
    drivingTable: 'broadcasts',
    joins: '',
    key: ['id'],
    columns: [
      col.timestamp('createdDate', 't.created_at'),
      // The platform keeps every segment of a broadcast; the documented column holds one int.
      col.int('groupId', 't.group_ids[1]'),
      col.int('id', 't.id'),
      col.text('mediaType', 50, 't.media_type'),
      col.int('messageId', 't.message_id'),
      col.text('name', 1000, 't.name'),
      col.timestamp('startedDate', 't.started_at'),
      col.text('status', 50, 't.status'),
      col.timestamp('updatedDate', 't.updated_at'),
    ],
  },
  {
    name: 'contactActivities',
    drivingTable: 'contact_activities',
    joins: '',
    key: ['activityId'],
    columns: [
      // Not in the seeds: no documented column identifies one activity.
      col.bigint('activityId', 't.id'),
      col.text('activity', 100, 't.activity_status'),
      col.text('activityStatus', 100, 't.activity_status'),
      col.text('workflowInstanceId', 200, 't.workflow_instance_id'),
      col.int('broadcastId', 't.broadcast_id'),
      col.text('campaignType', 50, 't.campaign_type'),
      col.text('clickEventLink', 1000, 't.click_event_link'),
      col.bigint('contactId', 't.contact_id'),
      col.text('errorCode', 1000, 't.status_description'),
      col.text('statusDescription', 1000, 't.status_description'),
      col.text('eventKey', 100, 't.source_event_key'),
      col.text('eventTypeKey', 100, 't.source_event_type_key'),
      col.text('externalCustomerId', 100, 't.external_customer_id'),
      col.text('mediaType', 50, 't.media_type'),
      col.int('messageInstanceId', 't.message_instance_id'),
      col.text('messageLanguageCode', 50, 't.message_language_code'),
      col.text('messageName', 100, 't.message_name'),
      col.int('messageId', 't.message_id'),
      col.text('messageTags', 200, 't.message_tags'),
      col.text('messageURL', 1000, 't.message_url'),
      col.text('senderName', 200, 't.sender_name'),
      col.timestamp('started', 't.occurred_at'),
      col.timestamp('activityDateTime', 't.occurred_at'),
      col.text('utmCampaign', 400, 't.utm_campaign'),
      col.intAsBigQueryString('workflowId', 't.workflow_id'),
      col.text('workflowBlockId', 200, 't.workflow_block_id'),
    ],
  },
  {
    name: 'contacts',
    drivingTable: 'contacts',
    joins: '',
    key: ['contactId'],
    deletedAt: 't.deleted_at',
    columns: [
      col.bigint('contactId', 't.id'),
      col.text('contactSource', 50, 't.source'),
      col.timestamp('createdDate', 't.created_at'),
      col.text('email', 50, contactEmail),
      col.text('emailDomain', 100, `nullif(split_part(${contactEmail}, '@', 2), '')`),
      col.text('emailStatus', 50, contactEmailStatus),
      col.text('externalCustomerId', 100, 't.external_customer_id'),
      col.text('firstName', 50, 't.first_name'),
      col.text('languageCode', 20, 't.language_code'),
      col.timestamp('lastClickedDate', 't.last_clicked_at'),
      col.text('lastName', 50, 't.last_name'),
      col.timestamp('lastReceivedDate', 't.last_received_at'),
      col.timestamp('lastSentDate', 't.last_sent_at'),
      col.timestamp('lastViewedDate', 't.last_viewed_at'),
      col.text('sms', 50, contactSms),
      col.int('totalClicked', 't.total_clicked'),
      col.int('totalReceived', 't.total_received'),
      col.int('totalSent', 't.total_sent'),
      col.int('totalViewed', 't.total_viewed'),
    ],
  },
  {
    name: 'devices',
    drivingTable: 'devices',
    joins: 'LEFT JOIN contacts c ON c.id = t.contact_id',
    key: ['deviceId'],
    deletedAt: 't.deleted_at',
    columns: [
      col.text('appVersion', 50, 't.app_version'),
      col.int('applicationId', 't.application_id'),
      col.text('category', 50, 't.category'),
      col.bigint('contactId', 't.contact_id'),
      col.text('deviceId', 250, 't.device_id'),
      col.text('deviceModel', 100, 't.device_model'),
      col.text('externalCustomerId', 100, 'c.external_customer_id'),
      col.text('languageCode', 20, 't.language_code'),
      col.text('osType', 50, 't.os_type'),
      col.text('osVersion', 50, 't.os_version'),
      col.text('pushToken', undefined, 't.push_token'),
      col.text('timeZone', 100, 't.time_zone'),
    ],
  },
  {
    name: 'messages',
    drivingTable: 'messages',
    joins: '',
    key: ['messageId'],
    deletedAt: 't.deleted_at',
    columns: [
      col.int('annoyanceLevel', 't.annoyance_level'),
      col.text('language', 50, 't.language'),
      col.text('mediaType', 50, 't.media_type'),
      col.int('messageId', 't.id'),
      col.text('name', 200, 't.name'),
      col.text('replyTo', 200, 't.reply_to'),
      col.text('sender', 200, 't.sender'),
      col.text('subject', 1000, 't.subject'),
      col.text('tags', 200, `nullif(array_to_string(t.tags, ','), '')`),
      // Every language version, the main one first, then the others by code: `uk,en,pl`.
      col.text(
        'translations',
        200,
        `nullif(concat_ws(',', t.language, (SELECT string_agg(v.language_code, ',' ORDER BY v.language_code) FROM message_translations v
            WHERE v.message_id = t.id AND v.language_code IS DISTINCT FROM t.language)), '')`,
      ),
      col.timestamp('updateDate', 't.updated_at'),
    ],
  },
  {
    name: 'orderItems',
    drivingTable: 'order_items',
    joins: 'JOIN orders o ON o.id = t.order_id',
    key: ['orderId', 'externalProductId'],
    deletedAt: 't.deleted_at',
    columns: [
      col.numeric('cost', 't.cost'),
      col.text('description', 300, 't.description'),
      col.text('externalProductId', 100, 't.external_product_id'),
      col.text('imageUrl', 200, 't.image_url'),
      col.text('name', 100, 't.name'),
      col.timestamp('orderDate', 'o.ordered_at'),
      col.int('orderId', 't.order_id'),
      col.int('quantity', 't.quantity'),
      col.text('url', 200, 't.url'),
    ],
  },
  {
    name: 'orders',
    drivingTable: 'orders',
    joins: '',
    key: ['orderId'],
    columns: [
      col.bigint('contactId', 't.contact_id'),
      col.text('deliveryAddress', 100, 't.delivery_address'),
      col.text('deliveryMethod', 50, 't.delivery_method'),
      col.numeric('discount', 't.discount'),
      col.text('email', 50, 't.email'),
      col.text('externalOrderId', 100, 't.external_order_id'),
      col.text('firstName', 50, 't.first_name'),
      col.text('lastName', 50, 't.last_name'),
      col.timestamp('orderCreatedDate', 't.created_at'),
      col.timestamp('orderDate', 't.ordered_at'),
      col.int('orderId', 't.id'),
      col.text('paymentMethod', 50, 't.payment_method'),
      col.text('phone', 50, 't.phone'),
      col.text('status', 50, 't.status'),
      col.numeric('totalCost', 't.total_cost'),
    ],
  },
  {
    name: 'revenue',
    drivingTable: 'revenue_attributions',
    joins: 'JOIN orders o ON o.id = t.order_id JOIN contact_activities a ON a.id = t.activity_id',
    key: ['orderId', 'activityId'],
    columns: [
      col.bigint('activityId', 't.activity_id'),
      col.text('activity', 100, 'a.activity_status'),
      col.text('activityStatus', 100, 'a.activity_status'),
      col.text('campaignType', 50, 'a.campaign_type'),
      col.text('clickEventLink', 1000, 'a.click_event_link'),
      col.bigint('contactId', 'coalesce(o.contact_id, a.contact_id)'),
      col.text('currency', 3, 'o.currency'),
      col.text('externalCustomerId', 100, 'coalesce(o.external_customer_id, a.external_customer_id)'),
      col.text('externalOrderId', 200, 'o.external_order_id'),
      col.text('mediaType', 50, 'a.media_type'),
      col.int('messageInstanceId', 'a.message_instance_id'),
      col.text('messageName', 100, 'a.message_name'),
      col.text('messageTags', 200, 'a.message_tags'),
      col.text('messageUrl', 1000, 'a.message_url'),
      col.timestamp('orderDate', 'o.ordered_at'),
      col.text('senderName', 200, 'a.sender_name'),
      col.timestamp('started', 'a.occurred_at'),
      col.timestamp('activityDateTime', 'a.occurred_at'),
      col.numeric('totalCost', 'o.total_cost'),
      col.text('utmCampaign', 400, 'a.utm_campaign'),
      // Documented for BigQuery (seed 003); PostgreSQL gets them too so both tables match.
      col.text('eventKey', 100, 'a.source_event_key'),
      col.text('eventTypeKey', 100, 'a.source_event_type_key'),
      col.text('messageLanguageCode', 50, 'a.message_language_code'),
      col.int('orderId', 't.order_id'),
      col.int('workflowId', 'a.workflow_id'),
      col.int('broadcastId', 'a.broadcast_id'),
    ],
  },
];

export const datasets: Readonly<Record<DatasetName, Dataset>> = Object.fromEntries(datasetList.map((dataset) => [dataset.name, dataset])) as Record<
  DatasetName,
  Dataset
>;

/** Every column of the destination table, Satellite's own last: the deletion time where rows can be deleted, the version. */
export function destinationColumns(dataset: Dataset): readonly DatasetColumn[] {
  return [
    ...dataset.columns,
    ...(dataset.deletedAt === undefined ? [] : [col.timestamp(DELETED_COLUMN, dataset.deletedAt)]),
    { name: VERSION_COLUMN, postgresType: 'bigint', bigQueryType: 'INT64', source: 't.change_xid::text::bigint' },
  ];
}
