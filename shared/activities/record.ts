import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { resolveRecipients } from '../contacts/resolve-recipients';
import { ValidationFailed } from '../errors';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';
import { logger } from '../logger';
import { publishRecordedActivities, relayWebhookOutbox } from '../webhooks/outbox';
import { channelAddressFields, type ActivityInput } from './activity-schema';
import { canonicalMediaType } from './media-types';

/**
 * An activity to record: what a channel reports, and for the platform's own sends what it
 * knows beyond seed 001's fields (exported with the activity, seed 000).
 */
export interface RecordedActivity extends ActivityInput {
  readonly campaignType?: 'IM' | 'Group';
  readonly messageLanguageCode?: string;
}

/**
 * How far ahead of the platform clock a report may be dated. A contact's last dates never
 * move back, so one report dated years ahead would freeze them; a day covers clock skew and
 * local times sent without their zone.
 */
const MAX_FUTURE_MS = 24 * 3600 * 1000;

/**
 * Records activities in one transaction: the rows (with snapshots of the contact's external
 * ID and addresses as they were), each contact's last sent/received/viewed/clicked dates
 * and totals, and the hand-over to webhook delivery. Every activity must name a contact of
 * this account; if one does not, nothing is recorded. A report that carries the sender's
 * `iid` and was recorded before (a channel retrying a call) is not recorded, counted or
 * delivered again. Returns the ids in input order, a repeated report's being the first one's.
 */
export async function recordActivities(platform: Platform, accountId: number, inputs: readonly RecordedActivity[]): Promise<number[]> {
  if (inputs.length === 0) return [];
  const latest = platform.clock.now().getTime() + MAX_FUTURE_MS;
  const ahead = inputs.flatMap((input, index) => (input.activityDateTime.getTime() > latest ? [index] : []));
  if (ahead.length > 0) {
    throw new ValidationFailed(
      `${ahead.length} activit${ahead.length === 1 ? 'y is' : 'ies are'} dated more than a day ahead`,
      ahead.slice(0, 20).map((index) => ({ path: `body.${index}.activityDateTime`, message: 'more than a day after now' })),
      'ACTIVITY_IN_FUTURE',
    );
  }
  const ids = await withTransaction(platform.db, async (client) => {
    const resolved = await resolveRecipients(
      client,
      accountId,
      inputs.map((input) => {
        const type = channelAddressFields.find((field) => input[field] !== undefined);
        return {
          contactId: input.contactId,
          externalCustomerId: input.externalCustomerId,
          locator: input.email ?? input.sms,
          channel: type === undefined ? undefined : { type, value: input[type]! },
        };
      }),
    );
    const unknown = resolved.filter((row) => !row.contact);
    if (unknown.length > 0) {
      throw new ValidationFailed(
        `${unknown.length} activit${unknown.length === 1 ? 'y names' : 'ies name'} no contact of this account`,
        unknown.slice(0, 20).map((row) => ({ path: `body.${row.index}`, message: row.error?.message ?? 'contact not found' })),
        'UNKNOWN_CONTACT',
      );
    }
    const rows = inputs.map((input, index) => {
      const contact = resolved[index]?.contact;
      const channel = (type: string) => contact?.channels.find((candidate) => candidate.type === type)?.value ?? null;
      const triggered = input.workflowId !== undefined || input.sourceEventKey !== undefined || input.sourceEventId !== undefined;
      return {
        contact_id: contact?.id,
        iid: input.iid ?? null,
        report_key: reportKey(input),
        activity_status: input.activityStatus,
        // One spelling per channel, whatever case the reporter used (seed 000's list).
        media_type: canonicalMediaType(input.mediaType) ?? input.mediaType,
        occurred_at: input.activityDateTime.toISOString(),
        external_customer_id: contact?.externalCustomerId ?? null,
        email: channel('email'),
        sms: channel('sms'),
        viber: channel('viber'),
        mobilepush: channel('mobilepush'),
        webpush: channel('webpush'),
        message_id: input.messageId ?? null,
        message_instance_id: input.messageInstanceId ?? null,
        message_name: input.messageName ?? null,
        message_tags: input.messageTag ?? null,
        message_url: input.viewMessageLink ?? null,
        broadcast_id: input.broadcastId ?? null,
        campaign_type: input.campaignType ?? (triggered ? 'IM' : input.broadcastId !== undefined ? 'Group' : null),
        message_language_code: input.messageLanguageCode ?? null,
        click_event_link: input.clickEventLink ?? null,
        status_description: input.statusDescription ?? null,
        hard_bounce: input.hardBounce ?? null,
        source_event_id: input.sourceEventId ?? null,
        source_event_key: input.sourceEventKey ?? null,
        source_event_type_id: input.sourceEventTypeId ?? null,
        source_event_type_key: input.sourceEventTypeKey ?? null,
        workflow_id: input.workflowId ?? null,
        workflow_block_id: input.workflowBlockId ?? null,
        workflow_instance_id: input.workflowInstanceId ?? null,
        subscriptions: input.subscriptons ?? input.subscriptions ?? null,
        status_data: input.statusData ?? {},
      };
    });
    const { ids, inserted } = await insertActivities(client, accountId, rows);
    await updateContactStatistics(client, inserted);
    await publishRecordedActivities(client, accountId, inserted);
    return ids;
  });
  // After commit, hand the outbox rows to the webhooks queue. The activities are recorded
  // either way: if the queue is unreachable, the outbox sweep relays them later.
  await relayWebhookOutbox(platform, accountId).catch((error: unknown) =>
    logger.warn('webhook relay deferred to the outbox sweep', { accountId, error: String(error) }),
  );
  return ids;
}

/**
 * What makes two reports one: the same send (the reporter's `iid`), status, second and link.
 * Reports without an `iid` are always new.
 */
function reportKey(input: ActivityInput): string | null {
  if (input.iid === undefined) return null;
  const identity = [input.iid.toLowerCase(), input.activityStatus, input.activityDateTime.toISOString(), input.clickEventLink ?? null];
  return createHash('sha256').update(JSON.stringify(identity)).digest('base64url');
}

interface ActivityRowInput extends Record<string, unknown> {
  readonly report_key: string | null;
}

/** The id of every row in input order, and the ids of the rows this call inserted (ascending). */
async function insertActivities(
  client: PoolClient,
  accountId: number,
  rows: readonly ActivityRowInput[],
): Promise<{ ids: number[]; inserted: number[] }> {
  // Ids are drawn in the recordset's order, so ascending ids are the input order of the rows
  // inserted; a report recorded before (or earlier in this call) is skipped by its key.
  const { rows: written } = await client.query<{ id: number; report_key: string | null }>(
    `INSERT INTO contact_activities (
       id, account_id, contact_id, iid, report_key, activity_status, media_type, occurred_at, external_customer_id, email, sms, viber,
       mobilepush, webpush, message_id, message_instance_id, message_name, message_tags, message_url, broadcast_id,
       campaign_type, click_event_link, status_description, hard_bounce, source_event_id, source_event_key,
       source_event_type_id, source_event_type_key, workflow_id, workflow_block_id, workflow_instance_id,
       subscriptions, status_data, message_language_code)
     OVERRIDING SYSTEM VALUE
     SELECT nextval(pg_get_serial_sequence('contact_activities', 'id')), $1, a.contact_id, COALESCE(a.iid, gen_random_uuid()),
            a.report_key, a.activity_status, a.media_type,
            a.occurred_at, a.external_customer_id, a.email, a.sms, a.viber, a.mobilepush, a.webpush, a.message_id,
            a.message_instance_id, a.message_name, a.message_tags, a.message_url, a.broadcast_id, a.campaign_type,
            a.click_event_link, a.status_description, a.hard_bounce, a.source_event_id, a.source_event_key,
            a.source_event_type_id, a.source_event_type_key, a.workflow_id, a.workflow_block_id, a.workflow_instance_id,
            a.subscriptions, a.status_data, a.message_language_code
       FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (
              contact_id bigint, iid uuid, report_key text, activity_status text, media_type text, occurred_at timestamptz, external_customer_id text,
              email text, sms text, viber text, mobilepush text, webpush text, message_id bigint, message_instance_id bigint,
              message_name text, message_tags text, message_url text, broadcast_id bigint, campaign_type text,
              click_event_link text, status_description text, hard_bounce boolean, source_event_id bigint,
              source_event_key text, source_event_type_id bigint, source_event_type_key text, workflow_id bigint,
              workflow_block_id text, workflow_instance_id text, subscriptions text[], status_data jsonb, message_language_code text)
            ) WITH ORDINALITY AS a
      ORDER BY a.ordinality
     ON CONFLICT (account_id, report_key) WHERE report_key IS NOT NULL DO NOTHING
     RETURNING id, report_key`,
    [accountId, JSON.stringify(rows)],
  );
  written.sort((a, b) => a.id - b.id);
  const byKey = new Map(written.flatMap((row) => (row.report_key === null ? [] : [[row.report_key, row.id] as const])));
  const repeated = rows.flatMap((row) => (row.report_key !== null && !byKey.has(row.report_key) ? [row.report_key] : []));
  if (repeated.length > 0) {
    const { rows: earlier } = await client.query<{ id: number; report_key: string }>(
      'SELECT id, report_key FROM contact_activities WHERE account_id = $1 AND report_key = ANY($2::text[])',
      [accountId, repeated],
    );
    for (const row of earlier) byKey.set(row.report_key, row.id);
  }
  const unkeyed = written.filter((row) => row.report_key === null).map((row) => row.id);
  let nextUnkeyed = 0;
  const ids = rows.map((row) => (row.report_key === null ? unkeyed[nextUnkeyed++]! : byKey.get(row.report_key)!));
  return { ids, inserted: written.map((row) => row.id) };
}

/**
 * SENT → totalSent/lastSentDate, DELIVERED → totalReceived/lastReceivedDate, RECEIVED (opened)
 * → totalViewed/lastViewedDate, CLICKED → totalClicked/lastClickedDate. A late report never
 * moves a last date backwards. `updated_at` moves so exports pick the contact up again.
 */
async function updateContactStatistics(client: PoolClient, activityIds: readonly number[]): Promise<void> {
  await client.query(
    `UPDATE contacts c SET
       total_sent = c.total_sent + s.sent,
       total_received = c.total_received + s.received,
       total_viewed = c.total_viewed + s.viewed,
       total_clicked = c.total_clicked + s.clicked,
       last_sent_at = GREATEST(c.last_sent_at, s.last_sent),
       last_received_at = GREATEST(c.last_received_at, s.last_received),
       last_viewed_at = GREATEST(c.last_viewed_at, s.last_viewed),
       last_clicked_at = GREATEST(c.last_clicked_at, s.last_clicked),
       updated_at = now()
     FROM (
       SELECT contact_id,
              count(*) FILTER (WHERE activity_status = 'SENT')::int AS sent,
              count(*) FILTER (WHERE activity_status = 'DELIVERED')::int AS received,
              count(*) FILTER (WHERE activity_status = 'RECEIVED')::int AS viewed,
              count(*) FILTER (WHERE activity_status = 'CLICKED')::int AS clicked,
              max(occurred_at) FILTER (WHERE activity_status = 'SENT') AS last_sent,
              max(occurred_at) FILTER (WHERE activity_status = 'DELIVERED') AS last_received,
              max(occurred_at) FILTER (WHERE activity_status = 'RECEIVED') AS last_viewed,
              max(occurred_at) FILTER (WHERE activity_status = 'CLICKED') AS last_clicked
         FROM contact_activities
        WHERE id = ANY($1::bigint[]) AND activity_status IN ('SENT', 'DELIVERED', 'RECEIVED', 'CLICKED')
        GROUP BY contact_id
     ) s
     WHERE c.id = s.contact_id`,
    [activityIds],
  );
}
