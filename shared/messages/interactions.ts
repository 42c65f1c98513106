import { recordActivities, type RecordedActivity } from '../activities/record';
import type { ActivityStatus } from '../activities/activity-schema';
import { SEND_ORIGIN_COLUMNS, sendActivity, sendOriginOf, withLivingContacts, type SendOriginRow } from '../email/send-activities';
import { NotFound } from '../errors';
import type { Platform } from '../platform';

/** What a device reports about a message it got, and the activity it becomes (seed 001's statuses). */
export const interactionStatuses = {
  DELIVERED: 'DELIVERED',
  OPENED: 'RECEIVED',
  READ: 'RECEIVED',
  CLICKED: 'CLICKED',
  UNDELIVERED: 'UNDELIVERED',
} as const satisfies Record<string, ActivityStatus>;
export type InteractionStatus = keyof typeof interactionStatuses;

export class InteractionNotFound extends NotFound {
  constructor() {
    super('interaction', 'INTERACTION_NOT_FOUND');
  }
}

/**
 * interactions/{id}/status: the interaction is one send (email, SMS or Viber), named by the
 * iid its SENT activity gave it (the requestId instant sends answer). The status becomes that send's activity, with
 * everything the SENT one said about its origin, so webhooks and exports see it like any other.
 */
export async function recordInteractionStatus(
  platform: Platform,
  accountId: number,
  interactionId: string,
  status: InteractionStatus,
  at?: Date,
): Promise<void> {
  const { rows } = await platform.db.query<SendOriginRow>(
    `SELECT ${SEND_ORIGIN_COLUMNS} FROM contact_activities a JOIN message_sends s ON s.activity_id = a.id
      WHERE a.account_id = $1 AND a.iid = $2::uuid AND a.activity_status = 'SENT' LIMIT 1`,
    [accountId, interactionId],
  );
  const row = rows[0];
  if (!row) return recordTextInteraction(platform, accountId, interactionId, interactionStatuses[status], at ?? platform.clock.now());
  const living = await withLivingContacts(platform.db, [sendOriginOf(row)]);
  if (living.length === 0) return;
  await recordActivities(platform, accountId, [
    sendActivity(living[0]!, { activityStatus: interactionStatuses[status], activityDateTime: at ?? platform.clock.now() }),
  ]);
}

/** An SMS or Viber send's interaction: the new activity repeats what its SENT activity said. */
async function recordTextInteraction(
  platform: Platform,
  accountId: number,
  interactionId: string,
  activityStatus: ActivityStatus,
  at: Date,
): Promise<void> {
  const { rows } = await platform.db.query<{
    contact_id: number | null;
    media_type: string;
    message_id: number | null;
    message_instance_id: number | null;
    message_name: string | null;
    message_tags: string | null;
    campaign_type: 'IM' | 'Group' | null;
  }>(
    `SELECT a.contact_id, a.media_type, a.message_id, a.message_instance_id, a.message_name, a.message_tags, a.campaign_type
       FROM contact_activities a JOIN text_sends t ON t.activity_id = a.id
      WHERE a.account_id = $1 AND a.iid = $2::uuid AND a.activity_status = 'SENT' LIMIT 1`,
    [accountId, interactionId],
  );
  const sent = rows[0];
  if (!sent) throw new InteractionNotFound();
  if (sent.contact_id === null) return;
  const activity: Record<string, unknown> = {
    activityStatus,
    activityDateTime: at,
    iid: interactionId,
    mediaType: sent.media_type,
    contactId: Number(sent.contact_id),
    messageId: sent.message_id ?? undefined,
    messageInstanceId: sent.message_instance_id ?? undefined,
    messageName: sent.message_name ?? undefined,
    messageTag: sent.message_tags ?? undefined,
    campaignType: sent.campaign_type ?? undefined,
  };
  for (const key of Object.keys(activity)) if (activity[key] === undefined) delete activity[key];
  await recordActivities(platform, accountId, [activity as unknown as RecordedActivity]);
}
