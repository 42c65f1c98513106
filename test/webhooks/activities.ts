import type { PoolClient } from 'pg';
import { withTransaction } from '../../shared/store/transaction';
import { publishRecordedActivities, relayWebhookOutbox } from '../../shared/webhooks/outbox';
import type { TestStack } from '../support/stack';

/** An activity in seed 001's own shape, as a test records it. */
export type SeedActivity = Record<string, unknown>;

/** Seed 001, "for bulk campaigns": the exact array a receiver must get. */
export const bulkExample: SeedActivity[] = [
  {
    broadcastId: 3459207,
    messageName: 'test',
    iid: '99d591ab-e7a5-49ed-8e16-b3023378fc18',
    contactId: 1967597908,
    externalCustomerId: '789456512',
    email: 'test1@yourdomain.com',
    mediaType: 'email',
    activityStatus: 'DELIVERED',
    messageId: 2489300,
    messageInstanceId: 4702518,
    activityDateTime: '2023-09-14T08:30:03',
    viewMessageLink: 'https://u51739.esclick.me/J9o6EvyAKGmB',
    statusData: {},
  },
  {
    broadcastId: 3459207,
    messageName: 'test',
    iid: '4af20897-de88-4ad0-ada3-dc4bcf14e8d8',
    contactId: 889891911,
    externalCustomerId: '262ac297-6ae1-11ec-a2ec-0050569bdf92',
    email: 'test2@yourdomain.com',
    mediaType: 'email',
    activityStatus: 'DELIVERED',
    messageId: 2489300,
    messageInstanceId: 4702518,
    activityDateTime: '2023-09-14T08:30:03',
    viewMessageLink: 'https://u51739.esclick.me/J9o6Dl1wrDeB',
    statusData: {},
  },
  {
    broadcastId: 3459207,
    messageName: 'test',
    iid: 'b14dec37-806e-4bc4-ba71-a5911a7d7ce4',
    contactId: 1026901517,
    email: 'test3@yourdomain.com',
    mediaType: 'email',
    activityStatus: 'DELIVERED',
    messageId: 2489300,
    messageInstanceId: 4702518,
    activityDateTime: '2023-09-14T08:30:03',
    viewMessageLink: 'https://u51739.esclick.me/J9o6Dttf6fOB',
    statusData: {},
  },
  {
    broadcastId: 3459207,
    messageName: 'test',
    hardBounce: false,
    iid: '99d591ab-e7a5-49ed-8e16-b3023378fc18',
    contactId: 1967597908,
    externalCustomerId: '789456512',
    email: 'test1@yourdomain.com',
    mediaType: 'email',
    activityStatus: 'UNDELIVERED',
    messageId: 2489300,
    messageInstanceId: 4702518,
    activityDateTime: '2023-09-14T08:30:07',
    statusDescription: '5.1.2 (bad destination system: no such domain)',
    viewMessageLink: 'https://u51739.esclick.me/J9o6EvyAKGmB',
    statusData: {},
  },
];

/** Seed 001, "for triggered campaigns". */
export const triggeredExample: SeedActivity[] = [
  {
    messageName: 'test',
    workflowId: 340484,
    workflowBlockId: '_05cae26d9ae85e1eb40ed34765f9c7be',
    sourceEventKey: '9d0c163d-cc3b-4f9e-bb03-2f5d1111ef91',
    sourceEventTypeKey: 'productViewed',
    workflowInstanceId: 'da33697d-52d8-11ee-9d24-7ec2059b5114',
    iid: '019b7450-52d9-11ee-85c4-959256ea468c',
    contactId: 889891911,
    externalCustomerId: '262ac297-6ae1-11ec-a2ec-0050569bdf92',
    email: 'test1@yourdomain.com',
    mediaType: 'email',
    activityStatus: 'DELIVERED',
    messageId: 2489300,
    messageInstanceId: 4702524,
    activityDateTime: '2023-09-14T08:30:50',
    viewMessageLink: 'https://u51739.esclick.me/1RocjPwr0MwONsdn2P',
    statusData: {},
  },
  {
    messageName: 'test',
    workflowId: 340484,
    workflowBlockId: '_527e1f819b41bd379d75ebbe3392b879',
    sourceEventKey: '9d0c163d-cc3b-4f9e-bb03-2f5d1111ef91',
    sourceEventTypeKey: 'productViewed',
    workflowInstanceId: 'da33697d-52d8-11ee-9d24-7ec2059b5114',
    iid: '01777190-52d9-11ee-917a-ef6e91bfc7c3',
    contactId: 889891911,
    externalCustomerId: '262ac297-6ae1-11ec-a2ec-0050569bdf92',
    email: 'test1@yourdomain.com',
    mediaType: 'email',
    activityStatus: 'DELIVERED',
    messageId: 2489300,
    messageInstanceId: 4702524,
    activityDateTime: '2023-09-14T08:30:51',
    viewMessageLink: 'https://u51739.esclick.me/1RocjPwr0MwONsd3gP',
    statusData: {},
  },
  {
    messageName: 'test',
    workflowId: 340484,
    workflowBlockId: '_be178ec8aacbf249d8bb736e9df9fd0d',
    sourceEventKey: '9d0c163d-cc3b-4f9e-bb03-2f5d1111ef91',
    sourceEventTypeKey: 'productViewed',
    workflowInstanceId: 'da33697d-52d8-11ee-9d24-7ec2059b5114',
    hardBounce: false,
    iid: '01a86ca0-52d9-11ee-85c4-959256ea468c',
    contactId: 706515632,
    sms: '380956490955',
    mediaType: 'viber',
    activityStatus: 'UNDELIVERED',
    messageId: 3213684,
    messageInstanceId: 4696769,
    messageTag: 'tag2,tag,test',
    activityDateTime: '2023-09-14T08:30:51',
    statusDescription: '401: null',
    statusData: {},
  },
];

const columnOf: Record<string, string> = {
  broadcastId: 'broadcast_id',
  messageName: 'message_name',
  workflowId: 'workflow_id',
  workflowBlockId: 'workflow_block_id',
  sourceEventId: 'source_event_id',
  sourceEventKey: 'source_event_key',
  sourceEventTypeId: 'source_event_type_id',
  sourceEventTypeKey: 'source_event_type_key',
  workflowInstanceId: 'workflow_instance_id',
  hardBounce: 'hard_bounce',
  iid: 'iid',
  contactId: 'contact_id',
  externalCustomerId: 'external_customer_id',
  email: 'email',
  sms: 'sms',
  viber: 'viber',
  mobilepush: 'mobilepush',
  webpush: 'webpush',
  mediaType: 'media_type',
  activityStatus: 'activity_status',
  messageId: 'message_id',
  messageInstanceId: 'message_instance_id',
  messageTag: 'message_tags',
  clickEventLink: 'click_event_link',
  statusDescription: 'status_description',
  viewMessageLink: 'message_url',
  subscriptons: 'subscriptions',
  statusData: 'status_data',
};

async function insertActivity(client: PoolClient, accountId: number, activity: SeedActivity): Promise<number> {
  const contactId = activity.contactId;
  if (typeof contactId === 'number') {
    await client.query(
      `INSERT INTO contacts (id, account_id, external_customer_id) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
      [contactId, accountId, activity.externalCustomerId ?? null],
    );
  }
  const columns = ['account_id', 'occurred_at'];
  const values: unknown[] = [accountId, `${String(activity.activityDateTime ?? new Date().toISOString().slice(0, 19))}Z`];
  for (const [field, value] of Object.entries(activity)) {
    if (field === 'activityDateTime') continue;
    const column = columnOf[field];
    if (!column) throw new Error(`no column for ${field}`);
    columns.push(column);
    values.push(field === 'statusData' ? JSON.stringify(value) : value);
  }
  const { rows } = await client.query<{ id: number }>(
    `INSERT INTO contact_activities (${columns.join(', ')}) VALUES (${columns.map((_, index) => `$${index + 1}`).join(', ')}) RETURNING id`,
    values,
  );
  return rows[0]!.id;
}

/**
 * Records activities the way the activities API does (#3): inserted and published in one
 * transaction, relayed to the queue after commit. Returns the activity ids.
 */
export async function recordActivities(
  stack: TestStack,
  accountId: number,
  activities: readonly SeedActivity[],
  { relay = true }: { relay?: boolean } = {},
): Promise<number[]> {
  const ids = await withTransaction(stack.platform.db, async (client) => {
    const inserted: number[] = [];
    for (const activity of activities) inserted.push(await insertActivity(client, accountId, activity));
    await publishRecordedActivities(client, accountId, inserted);
    return inserted;
  });
  if (relay) await relayWebhookOutbox(stack.platform, accountId);
  return ids;
}

/** A plain DELIVERED email activity, numbered so order can be checked. */
export function numberedActivity(index: number): SeedActivity {
  return {
    iid: crypto.randomUUID(),
    email: `n${index}@example.com`,
    mediaType: 'email',
    activityStatus: 'DELIVERED',
    messageId: index,
    statusData: {},
  };
}
