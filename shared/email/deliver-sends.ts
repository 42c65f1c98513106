import { publicBaseUrlOf } from '../config';
import * as z from 'zod';
import { recordActivities, type RecordedActivity } from '../activities/record';
import { logger } from '../logger';
import { consumeJobs, type JobHandler } from '../jobs/consume-jobs';
import type { Platform } from '../platform';
import type { OutgoingEmail, SendOutcome } from '../ports/email-channel';
import { linkKey } from './link-signing';
import { SEND_ORIGIN_COLUMNS, sendActivity, sendOriginOf, withLivingContacts, type SendOrigin, type SendOriginRow } from './send-activities';
import { takeSendTokens } from './send-rate';
import { sendingProfile, type SendingProfile } from './settings';
import { normalizeAddress, suppressAddress, suppressedAmong, suppressedReasonMessage } from './suppressions';
import { textFromHtml, trackMessage } from './tracking';

/** Sends per queue message: one claim, one token take and one activity write per batch. */
export const SENDS_PER_JOB = 100;
/** Emails of one job in flight at once (the SMTP pool's connections share them). */
const IN_FLIGHT = 16;
/** SQS delays a message at most 15 minutes. */
const MAX_DELAY_SECONDS = 900;
/** A provider that asks us to slow down is asked again after this long (or the retry base, if shorter); throttling never counts as a try. */
export const THROTTLE_DELAY_SECONDS = 5;

/** What the emails and texts queues carry. */
export const sendJobSchema = z
  .object({
    accountId: z.number().int().positive(),
    sendIds: z.array(z.number().int().positive()).min(1).max(SENDS_PER_JOB),
  })
  .strict();
export type SendJob = z.output<typeof sendJobSchema>;

/** Sends to try again later: the caller queues them with this delay. */
export interface DeferredSends {
  readonly sendIds: readonly number[];
  readonly delaySeconds: number;
}

export interface DeliveryOutcome {
  readonly accepted: number;
  readonly failed: number;
  readonly suppressed: number;
  readonly deferred: readonly DeferredSends[];
}

interface ClaimedRow extends SendOriginRow {
  subject: string;
  html_text: string;
  plain_text: string | null;
  attempts: number;
  message_sender: string | null;
  message_reply_to: string | null;
}

/** Queues send jobs for these sends (ids of one account), in jobs of `SENDS_PER_JOB`. */
export function queueSends(platform: Platform, accountId: number, sendIds: readonly number[], delaySeconds = 0): Promise<void> {
  return queueSendJobs(platform, 'emails', accountId, sendIds, delaySeconds);
}

/**
 * Queues jobs of a channel whose sends are claimed by id (email's `emails`, SMS and Viber's
 * `texts`): `SENDS_PER_JOB` to a job, each delayed as asked (SQS allows 15 minutes at most).
 */
export async function queueSendJobs(
  platform: Platform,
  queue: 'emails' | 'texts',
  accountId: number,
  sendIds: readonly number[],
  delaySeconds = 0,
): Promise<void> {
  const messages = [];
  for (let start = 0; start < sendIds.length; start += SENDS_PER_JOB) {
    const job: SendJob = { accountId, sendIds: sendIds.slice(start, start + SENDS_PER_JOB) };
    messages.push({ body: JSON.stringify(job), ...(delaySeconds > 0 ? { delaySeconds: Math.min(MAX_DELAY_SECONDS, delaySeconds) } : {}) });
  }
  if (messages.length > 0) await platform.queue.send(queue, messages);
}

/** What `runSendJob` needs of a channel whose sends are queued by id (email, texts). */
export interface SendJobChannel {
  /** The job's name in logs. */
  readonly name: string;
  readonly deliver: (platform: Platform, job: SendJob) => Promise<Omit<DeliveryOutcome, 'suppressed'> & { readonly suppressed?: number }>;
  readonly queue: (platform: Platform, accountId: number, sendIds: readonly number[], delaySeconds: number) => Promise<void>;
}

/**
 * A send job of either channel, run whole: its sends delivered, what was held back (the
 * rate, or the provider refusing for now) queued again with its delay, and a line logged
 * when anything did not go out. A job that throws is retried by SQS; the sends it already
 * claimed are never sent again.
 */
export async function runSendJob(platform: Platform, job: SendJob, channel: SendJobChannel): Promise<void> {
  const outcome = await channel.deliver(platform, job);
  for (const deferred of outcome.deferred) await channel.queue(platform, job.accountId, deferred.sendIds, deferred.delaySeconds);
  if (outcome.failed > 0 || outcome.deferred.length > 0) {
    logger.info(`${channel.name} done`, {
      accountId: job.accountId,
      accepted: outcome.accepted,
      failed: outcome.failed,
      ...(outcome.suppressed === undefined ? {} : { suppressed: outcome.suppressed }),
      deferred: outcome.deferred.reduce((count, deferred) => count + deferred.sendIds.length, 0),
    });
  }
}

/** A send queue's consumer (the emails' or the texts' worker): each job run by `runSendJob`. */
export function consumeSendJobs(platform: Platform, channel: SendJobChannel): JobHandler {
  return consumeJobs({ name: channel.name, schema: sendJobSchema, run: (job) => runSendJob(platform, job, channel) });
}

/** The emails queue's job: email's sends through `runSendJob`. */
export const emailSendJob: SendJobChannel = { name: 'send job', deliver: deliverSends, queue: queueSends };

/**
 * One send job: takes tokens from the account's bucket, claims as many pending sends as it
 * was granted (state `sending`, in one statement: a duplicate job or a second worker finds
 * them taken, so nobody gets an email twice), hands each to the channel and records what
 * became of it. Sends it was not granted tokens for, and sends the provider refused for
 * now, come back as `deferred` for the caller to queue with their delay.
 */
export async function deliverSends(platform: Platform, job: SendJob): Promise<DeliveryOutcome> {
  const { accountId } = job;
  const { rows: pending } = await platform.db.query<{ id: number }>(
    `SELECT id FROM message_sends WHERE account_id = $1 AND id = ANY($2::bigint[]) AND state = 'pending' ORDER BY id`,
    [accountId, job.sendIds],
  );
  if (pending.length === 0) return { accepted: 0, failed: 0, suppressed: 0, deferred: [] };
  const profile = await sendingProfile(platform, accountId);
  if (!profile) {
    // Nothing can leave without a sender: the sends wait (the sweep queues them again) until
    // the account sets one, rather than failing for good over a setting.
    logger.warn('email sends wait: the account has no sender (PUT /api/v1/settings/email)', { accountId, sends: pending.length });
    return { accepted: 0, failed: 0, suppressed: 0, deferred: [] };
  }
  const now = platform.clock.now();
  const rate = profile.ratePerSecond;
  const tokens = await takeSendTokens(platform.db, accountId, pending.length, rate, now);
  const deferred: DeferredSends[] = [];
  const later = pending.slice(tokens.granted).map((row) => row.id);
  if (later.length > 0) deferred.push({ sendIds: later, delaySeconds: tokens.waitSeconds });
  const claimed = await claim(
    platform,
    accountId,
    pending.slice(0, tokens.granted).map((row) => row.id),
    now,
  );
  if (claimed.length === 0) return { accepted: 0, failed: 0, suppressed: 0, deferred };

  // An address suppressed after the send was recorded (an unsubscribe meanwhile) gets nothing.
  const suppressed = await suppressedAmong(
    platform.db,
    accountId,
    claimed.map((row) => row.recipient),
  );
  const toSend = claimed.filter((row) => !suppressed.has(normalizeAddress(row.recipient)));
  const skipped = claimed.filter((row) => suppressed.has(normalizeAddress(row.recipient)));
  if (skipped.length > 0) {
    await platform.db.query(
      `UPDATE message_sends s SET state = 'suppressed', last_error = x.reason FROM unnest($1::bigint[], $2::text[]) AS x(id, reason) WHERE s.id = x.id`,
      [skipped.map((row) => row.send_id), skipped.map((row) => suppressedReasonMessage[suppressed.get(normalizeAddress(row.recipient))!])],
    );
  }

  const key = await linkKey(platform.db, accountId);
  const channel = platform.emailChannels.open(profile.route);
  const outcomes = await inBatches(toSend, IN_FLIGHT, (row) => channel.send(composeEmail(platform, profile, key, row)));

  const accepted: { row: ClaimedRow; outcome: Extract<SendOutcome, { kind: 'accepted' }> }[] = [];
  const failed: { row: ClaimedRow; description: string; hardBounce: boolean }[] = [];
  const retry: { row: ClaimedRow; description: string; delaySeconds: number; countsAsTry: boolean }[] = [];
  toSend.forEach((row, index) => {
    const outcome = outcomes[index]!;
    if (outcome.kind === 'accepted') accepted.push({ row, outcome });
    else if (outcome.permanent) failed.push({ row, description: outcome.description, hardBounce: outcome.recipientRejected });
    else if (outcome.throttled)
      retry.push({
        row,
        description: outcome.description,
        delaySeconds: Math.max(1, Math.min(THROTTLE_DELAY_SECONDS, platform.config.email.retryBaseSeconds)),
        countsAsTry: false,
      });
    else if (row.attempts >= platform.config.email.maxAttempts)
      failed.push({ row, description: `${outcome.description} (gave up after ${row.attempts} tries)`, hardBounce: false });
    else retry.push({ row, description: outcome.description, delaySeconds: retryDelaySeconds(platform, row.attempts), countsAsTry: true });
  });
  await settle(platform, accountId, accepted, failed, retry, profile.route.kind);
  for (const delay of new Set(retry.map((entry) => entry.delaySeconds))) {
    deferred.push({ sendIds: retry.filter((entry) => entry.delaySeconds === delay).map((entry) => entry.row.send_id), delaySeconds: delay });
  }
  if (retry.some((entry) => !entry.countsAsTry)) logger.warn('the email provider is throttling; backing off', { accountId, sends: retry.length });
  return { accepted: accepted.length, failed: failed.length, suppressed: skipped.length, deferred };
}

/** 1×, 2×, 4× … the base after each try, at most SQS's longest delay. */
export function retryDelaySeconds(platform: Platform, attempts: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(1, platform.config.email.retryBaseSeconds * 2 ** Math.max(0, attempts - 1)));
}

async function claim(platform: Platform, accountId: number, sendIds: readonly number[], now: Date): Promise<ClaimedRow[]> {
  if (sendIds.length === 0) return [];
  const { rows } = await platform.db.query<ClaimedRow>(
    `WITH claimed AS (
       UPDATE message_sends SET state = 'sending', claimed_at = $3, attempts = attempts + 1
        WHERE account_id = $1 AND id = ANY($2::bigint[]) AND state = 'pending'
       RETURNING *
     )
     SELECT ${SEND_ORIGIN_COLUMNS}, s.subject, s.html_text, s.plain_text, s.attempts, m.sender AS message_sender, m.reply_to AS message_reply_to
       FROM claimed s
       LEFT JOIN contact_activities a ON a.id = s.activity_id
       LEFT JOIN messages m ON m.id = s.message_id
      ORDER BY s.id`,
    [accountId, sendIds, now],
  );
  return rows;
}

function composeEmail(platform: Platform, profile: SendingProfile, key: Buffer, row: ClaimedRow): OutgoingEmail {
  const text = row.plain_text ?? textFromHtml(row.html_text);
  const tracked = trackMessage(publicBaseUrlOf(platform.config), key, row.account_id, row.send_id, row.html_text, text);
  const from = row.message_sender ? parseSender(row.message_sender) : profile.from;
  const domain = from.address.split('@')[1] ?? 'satellite.invalid';
  const replyTo = row.message_reply_to ?? profile.replyTo;
  return {
    sendId: row.send_id,
    accountId: row.account_id,
    from,
    ...(replyTo ? { replyTo } : {}),
    to: row.recipient,
    subject: row.subject,
    html: tracked.html,
    text: tracked.text,
    messageId: `<send-${row.send_id}.${row.account_id}@${domain}>`,
    headers: tracked.headers,
  };
}

/** A message's own sender: `Name <address>` or a bare address. */
function parseSender(sender: string): { address: string; name?: string } {
  const named = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(sender);
  if (named) return { address: named[2]!.trim(), ...(named[1]!.trim() ? { name: named[1]!.trim() } : {}) };
  return { address: sender.trim() };
}

/**
 * Writes what became of each send (one statement), then its activities: DELIVERED for
 * what an SMTP server accepted (SES reports its own deliveries later, see ses-events.ts),
 * UNDELIVERED for what failed for good, and a hard bounce suppresses the address.
 */
async function settle(
  platform: Platform,
  accountId: number,
  accepted: readonly { row: ClaimedRow; outcome: Extract<SendOutcome, { kind: 'accepted' }> }[],
  failed: readonly { row: ClaimedRow; description: string; hardBounce: boolean }[],
  retry: readonly { row: ClaimedRow; description: string; delaySeconds: number; countsAsTry: boolean }[],
  channel?: 'ses' | 'smtp',
): Promise<void> {
  const now = platform.clock.now();
  const updates = [
    ...accepted.map((entry) => ({
      id: entry.row.send_id,
      state: 'sent',
      provider: entry.outcome.providerMessageId,
      error: null,
      due: null,
      undo: 0,
    })),
    ...failed.map((entry) => ({ id: entry.row.send_id, state: 'failed', provider: null, error: entry.description, due: null, undo: 0 })),
    ...retry.map((entry) => ({
      id: entry.row.send_id,
      state: 'pending',
      provider: null,
      error: entry.description,
      due: new Date(now.getTime() + entry.delaySeconds * 1000).toISOString(),
      undo: entry.countsAsTry ? 0 : 1,
    })),
  ];
  if (updates.length > 0) {
    await platform.db.query(
      `UPDATE message_sends s SET state = u.state, provider_message_id = coalesce(u.provider, s.provider_message_id), last_error = u.error,
              due_at = coalesce(u.due, s.due_at), attempts = s.attempts - u.undo, channel = coalesce($2, s.channel)
         FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, state text, provider text, error text, due timestamptz, undo int)
        WHERE s.id = u.id`,
      [JSON.stringify(updates), channel ?? null],
    );
  }
  for (const entry of failed) {
    if (entry.hardBounce)
      await suppressAddress(platform.db, accountId, entry.row.recipient, 'HARD_BOUNCE', { sendId: entry.row.send_id, detail: entry.description });
  }
  const activities: RecordedActivity[] = [];
  const living = new Set(
    (await withLivingContacts(platform.db, [...accepted.map((e) => sendOriginOf(e.row)), ...failed.map((e) => sendOriginOf(e.row))])).map(
      (origin: SendOrigin) => origin.sendId,
    ),
  );
  if (channel === 'smtp') {
    for (const entry of accepted)
      if (living.has(entry.row.send_id))
        activities.push(sendActivity(sendOriginOf(entry.row), { activityStatus: 'DELIVERED', activityDateTime: now }));
  }
  for (const entry of failed) {
    if (!living.has(entry.row.send_id)) continue;
    activities.push(
      sendActivity(sendOriginOf(entry.row), {
        activityStatus: 'UNDELIVERED',
        activityDateTime: now,
        hardBounce: entry.hardBounce,
        statusDescription: entry.description.slice(0, 1000),
      }),
    );
  }
  await recordActivities(platform, accountId, activities);
}

/** Runs `work` over `items` with at most `limit` in flight, answers in input order. */
export async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}
