import { recordActivities, type RecordedActivity } from '../activities/record';
import {
  inBatches,
  queueSendJobs,
  retryDelaySeconds,
  THROTTLE_DELAY_SECONDS,
  type DeferredSends,
  type SendJob,
  type SendJobChannel,
} from '../email/deliver-sends';
import type { SendLedger } from '../email/send-sweep';
import { logger } from '../logger';
import type { Platform } from '../platform';
import type { SendOutcome } from '../ports/email-channel';
import type { OutgoingText } from '../ports/text-channel';

/** Texts of one job in flight at once. */
const IN_FLIGHT = 8;

export interface TextDeliveryOutcome {
  readonly accepted: number;
  readonly failed: number;
  /** Sends to try again later: the caller queues them with their delay. */
  readonly deferred: readonly DeferredSends[];
}

/** Queues jobs for these text sends (ids of one account), as email's sends are queued. */
export function queueTexts(platform: Platform, accountId: number, sendIds: readonly number[], delaySeconds = 0): Promise<void> {
  return queueSendJobs(platform, 'texts', accountId, sendIds, delaySeconds);
}

interface ClaimedText {
  id: number;
  account_id: number;
  message_id: number;
  contact_id: number | null;
  media_type: 'SMS' | 'Viber';
  sender: string;
  recipient: string;
  text: string;
  image_url: string | null;
  button_text: string | null;
  button_url: string | null;
  attempts: number;
  iid: string | null;
  message_name: string;
  message_tags: string[];
}

/**
 * One text job: claims the job's pending sends (state `sending`, in one statement: a
 * duplicate job or a second worker finds them taken, so nobody gets a text twice), hands
 * each to its channel (SMS or Viber), and records what became of it: DELIVERED when the
 * provider took it, UNDELIVERED when it refused for good or after the last try, with the
 * iid of the send's SENT activity. A refusal for now puts the send back `pending` and comes
 * back as `deferred`, with the same backoff as email (EMAIL_RETRY_BASE_SECONDS, doubled per
 * try, EMAIL_MAX_ATTEMPTS tries).
 */
export async function deliverTexts(platform: Platform, job: SendJob): Promise<TextDeliveryOutcome> {
  const now = platform.clock.now();
  const { rows: claimed } = await platform.db.query<ClaimedText>(
    `WITH claimed AS (
       UPDATE text_sends SET state = 'sending', claimed_at = $3, attempts = attempts + 1
        WHERE account_id = $1 AND id = ANY($2::bigint[]) AND state = 'pending'
       RETURNING *
     )
     SELECT t.id, t.account_id, t.message_id, t.contact_id, t.media_type, t.sender, t.recipient, t.text, t.image_url, t.button_text,
            t.button_url, t.attempts, a.iid::text AS iid, m.name AS message_name, m.tags AS message_tags
       FROM claimed t
       JOIN messages m ON m.id = t.message_id
       LEFT JOIN contact_activities a ON a.id = t.activity_id
      ORDER BY t.id`,
    [job.accountId, job.sendIds, now],
  );
  if (claimed.length === 0) return { accepted: 0, failed: 0, deferred: [] };

  const outcomes = await inBatches(claimed, IN_FLIGHT, (row) => {
    const channel = row.media_type === 'SMS' ? platform.textChannels.sms : platform.textChannels.viber;
    const message: OutgoingText = {
      sendId: Number(row.id),
      accountId: job.accountId,
      mediaType: row.media_type,
      from: row.sender,
      to: row.recipient,
      text: row.text,
      ...(row.image_url !== null ? { imageUrl: row.image_url } : {}),
      ...(row.button_text !== null && row.button_url !== null ? { button: { text: row.button_text, url: row.button_url } } : {}),
    };
    return channel.send(message);
  });

  const settled: {
    row: ClaimedText;
    state: 'sent' | 'failed' | 'pending';
    provider?: string;
    error?: string;
    delaySeconds?: number;
    countsAsTry: boolean;
  }[] = claimed.map((row, index) => {
    const outcome: SendOutcome = outcomes[index]!;
    if (outcome.kind === 'accepted') return { row, state: 'sent', provider: outcome.providerMessageId, countsAsTry: true };
    if (outcome.permanent) return { row, state: 'failed', error: outcome.description, countsAsTry: true };
    if (outcome.throttled)
      return {
        row,
        state: 'pending',
        error: outcome.description,
        delaySeconds: Math.max(1, Math.min(THROTTLE_DELAY_SECONDS, platform.config.email.retryBaseSeconds)),
        countsAsTry: false,
      };
    if (row.attempts >= platform.config.email.maxAttempts)
      return { row, state: 'failed', error: `${outcome.description} (gave up after ${row.attempts} tries)`, countsAsTry: true };
    return { row, state: 'pending', error: outcome.description, delaySeconds: retryDelaySeconds(platform, row.attempts), countsAsTry: true };
  });

  await platform.db.query(
    `UPDATE text_sends t SET state = u.state, provider_message_id = coalesce(u.provider, t.provider_message_id), last_error = u.error,
            due_at = coalesce(u.due, t.due_at), attempts = t.attempts - u.undo
       FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, state text, provider text, error text, due timestamptz, undo int)
      WHERE t.id = u.id`,
    [
      JSON.stringify(
        settled.map((entry) => ({
          id: entry.row.id,
          state: entry.state,
          provider: entry.provider ?? null,
          error: entry.error ?? null,
          due: entry.delaySeconds === undefined ? null : new Date(now.getTime() + entry.delaySeconds * 1000).toISOString(),
          undo: entry.countsAsTry ? 0 : 1,
        })),
      ),
    ],
  );

  // A contact deleted since the send was recorded gets no activity (it would name nobody).
  const recordedAt = platform.clock.now();
  const activities: RecordedActivity[] = settled
    .filter((entry) => entry.state !== 'pending' && entry.row.contact_id !== null)
    .map((entry) => ({
      mediaType: entry.row.media_type,
      campaignType: 'IM',
      contactId: Number(entry.row.contact_id),
      messageId: Number(entry.row.message_id),
      messageInstanceId: Number(entry.row.id),
      messageName: entry.row.message_name,
      ...(entry.row.message_tags.length > 0 ? { messageTag: entry.row.message_tags.join(',').slice(0, 200) } : {}),
      ...(entry.row.iid !== null ? { iid: entry.row.iid } : {}),
      activityDateTime: recordedAt,
      ...(entry.state === 'sent'
        ? { activityStatus: 'DELIVERED' as const }
        : { activityStatus: 'UNDELIVERED' as const, statusDescription: (entry.error ?? '').slice(0, 1000) }),
    }));
  await recordActivities(platform, job.accountId, activities);

  const retry = settled.filter((entry) => entry.state === 'pending');
  const deferred = [...new Set(retry.map((entry) => entry.delaySeconds!))].map((delaySeconds) => ({
    delaySeconds,
    sendIds: retry.filter((entry) => entry.delaySeconds === delaySeconds).map((entry) => Number(entry.row.id)),
  }));
  if (retry.some((entry) => !entry.countsAsTry))
    logger.warn('the text provider is throttling; backing off', { accountId: job.accountId, sends: retry.length });
  return {
    accepted: settled.filter((entry) => entry.state === 'sent').length,
    failed: settled.filter((entry) => entry.state === 'failed').length,
    deferred,
  };
}

/** The texts' ledger for the sends' sweep (`requeueStalledSends`, `closeAbandonedClaims`). */
export const textSends: SendLedger = { table: 'text_sends', queue: queueTexts };

/** The texts queue's job: SMS and Viber sends through `runSendJob`. */
export const textSendJob: SendJobChannel = { name: 'text job', deliver: deliverTexts, queue: queueTexts };
