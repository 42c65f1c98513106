import { resolveRecipients, type RecipientContact } from '../contacts/resolve-recipients';
import { normalizeAddress, suppressedAmong, suppressedReasonMessage } from '../email/suppressions';
import { AppError } from '../errors';
import { logger } from '../logger';
import type { JobBudget } from '../jobs/consume-jobs';
import { withJobLease } from '../jobs/job-lease';
import type { Platform } from '../platform';
import { getConditionalGroup } from '../segments/conditional-groups';
import { evaluateSegment } from '../segments/evaluate-segment';
import { isPermanentSourceFailure } from '../sources/query-failure';
import { withTransaction } from '../store/transaction';
import { bulkDataOf, bulkSourcesReadBy, type BulkSources } from './bulk-data';
import { queues } from '../topology';
import { MAX_KEPT_FAILURES, type BroadcastFailure, type BroadcastJob, type BroadcastStatus } from './broadcasts';
import { getEmailMessage, type EmailMessage } from './messages';
import { recordSends, renderedSend, type SendToRecord } from './record-sends';
import { renderMessages, templateContact } from './render-message';
import { templateFailure } from './smartsend';
import { countRender } from './count-render';

/** Members rendered and recorded together: one lookup per source per page, one commit of progress. */
export const BULK_PAGE_SIZE = 1000;

/** Rows per insert when the evaluated members are stored. */
const MEMBER_INSERT_CHUNK = 50_000;

/**
 * finished: IDLE now. continued: its continuation is queued. stopped: cancelled, or stopped
 * by a failure that retrying cannot fix (PAUSED with the error). skipped: nothing to do, or
 * another invocation holds the broadcast.
 */
export type BroadcastJobOutcome = 'finished' | 'continued' | 'stopped' | 'skipped';

interface JobRow {
  id: number;
  account_id: number;
  message_id: number | null;
  group_id: number | null;
  status: BroadcastStatus;
  recipients: number | null;
  cursor_contact_id: number;
}

interface PageOutcome {
  /** Members of the page that have this broadcast's send now (sent by this page or by an earlier try of it). */
  readonly sent: number;
  readonly failed: number;
  readonly failures: readonly BroadcastFailure[];
}

/**
 * One invocation of the broadcast worker: evaluates the group the first time (its members
 * are stored, so the audience is fixed when sending starts), then sends page after page of
 * members in contact-id order, committing the cursor and counts after each page. It stops
 * when the broadcast is cancelled, and when its time budget runs low it queues its own
 * continuation. A redelivered or duplicated job resumes from the cursor; one unique send
 * per broadcast and contact means a page repeated after a crash sends nobody twice.
 */
export async function runBroadcastJob(platform: Platform, job: BroadcastJob, budget: JobBudget): Promise<BroadcastJobOutcome> {
  // A lease row, not a session lock: a duplicate delivery finds it taken and leaves the work
  // to the holder, and no proxy connection stays pinned meanwhile.
  const leased = await withJobLease(platform.db, `broadcast:${job.broadcastId}`, queues.broadcasts.workerTimeoutSeconds, () =>
    runLocked(platform, job.broadcastId, budget),
  );
  if (leased.taken) return 'skipped';
  const outcome = leased.result;
  // Queued only after the lock is released, or the continuation could arrive, find the
  // broadcast held and be dropped.
  if (outcome === 'continued') await platform.queue.send('broadcasts', [{ body: JSON.stringify(job satisfies BroadcastJob) }]);
  return outcome;
}

async function runLocked(platform: Platform, broadcastId: number, budget: JobBudget): Promise<BroadcastJobOutcome> {
  const { rows } = await platform.db.query<JobRow>(
    'SELECT id, account_id, message_id, group_ids[1] AS group_id, status, recipients, cursor_contact_id FROM broadcasts WHERE id = $1',
    [broadcastId],
  );
  const broadcast = rows[0];
  if (!broadcast) return 'skipped';
  if (broadcast.status !== 'SCHEDULED' && broadcast.status !== 'RUNNING') {
    await forgetMembers(platform, broadcastId);
    return 'skipped';
  }
  const accountId = broadcast.account_id;
  try {
    if (broadcast.recipients === null && !(await storeMembers(platform, broadcast))) return 'stopped';
    const message = await getEmailMessage(platform.db, accountId, broadcast.message_id ?? 0);
    const sources = await bulkSourcesReadBy(platform, accountId, templatesOf(message));

    let cursor = broadcast.cursor_contact_id;
    for (let pages = 0; ; pages += 1) {
      const page = await nextPage(platform, broadcastId, cursor);
      if (page.length === 0) return await finish(platform, broadcastId);
      if (pages > 0 && budget.remainingMs() < platform.config.broadcastTimeReserveMs) return 'continued';
      const outcome = await sendPage(platform, accountId, broadcastId, message, sources, page);
      cursor = page[page.length - 1] ?? cursor;
      const status = await recordProgress(platform, broadcastId, cursor, outcome);
      if (status !== 'RUNNING') {
        await forgetMembers(platform, broadcastId);
        return 'stopped';
      }
    }
  } catch (error) {
    // A message, group, source or connector deleted since the broadcast was queued, or a query
    // the customer's database refuses (a value its column type cannot read): retrying cannot help.
    if (error instanceof AppError && isPermanentSourceFailure(error)) {
      await stopBroadcast(platform, broadcastId, { code: error.code, message: error.message });
      return 'stopped';
    }
    if (error instanceof AppError) await noteError(platform, broadcastId, { code: error.code, message: error.message });
    throw error;
  }
}

/**
 * Evaluates the group once and stores its members with the switch to RUNNING, in one
 * transaction: a job redelivered after this point sends to the same audience. False when
 * the broadcast was cancelled meanwhile.
 */
async function storeMembers(platform: Platform, broadcast: JobRow): Promise<boolean> {
  const group = await getConditionalGroup(platform.db, broadcast.account_id, broadcast.group_id ?? 0);
  const members = await evaluateSegment(platform, broadcast.account_id, group.conditions);
  return withTransaction(platform.db, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE broadcasts SET status = 'RUNNING', recipients = $2, started_at = coalesce(started_at, $3), updated_at = now()
        WHERE id = $1 AND status IN ('SCHEDULED', 'RUNNING')`,
      [broadcast.id, members.length, platform.clock.now()],
    );
    if (rowCount === 0) return false;
    for (let start = 0; start < members.length; start += MEMBER_INSERT_CHUNK) {
      await client.query('INSERT INTO broadcast_members (broadcast_id, contact_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING', [
        broadcast.id,
        members.slice(start, start + MEMBER_INSERT_CHUNK),
      ]);
    }
    return true;
  });
}

async function nextPage(platform: Platform, broadcastId: number, cursor: number): Promise<number[]> {
  const { rows } = await platform.db.query<{ contact_id: number }>(
    'SELECT contact_id FROM broadcast_members WHERE broadcast_id = $1 AND contact_id > $2 ORDER BY contact_id LIMIT $3',
    [broadcastId, cursor, BULK_PAGE_SIZE],
  );
  return rows.map((row) => row.contact_id);
}

/** Every template of a message: its subject and body, in each language. */
function templatesOf(message: EmailMessage): string[] {
  return [message.subject, message.htmlText, ...message.translations.flatMap((translation) => [translation.subject, translation.htmlText])];
}

/**
 * A page of a bulk campaign: each member's message sees `$data.<sourceName>` (`bulkDataOf`),
 * looked up for the whole page at once. Members that already have this broadcast's send (an
 * earlier try of this page) are not rendered again.
 */
async function sendPage(
  platform: Platform,
  accountId: number,
  broadcastId: number,
  message: EmailMessage,
  sources: BulkSources,
  members: readonly number[],
): Promise<PageOutcome> {
  const { rows: done } = await platform.db.query<{ contact_id: number }>(
    'SELECT contact_id FROM message_sends WHERE broadcast_id = $1 AND contact_id = ANY($2::bigint[])',
    [broadcastId, members],
  );
  const alreadySent = new Set(done.map((row) => row.contact_id));
  const batch = members.filter((id) => !alreadySent.has(id));
  const failures: BroadcastFailure[] = [];
  if (batch.length === 0) return { sent: alreadySent.size, failed: 0, failures };

  const dataByContact = await bulkDataOf(platform, accountId, sources, batch);
  const resolved = await resolveRecipients(
    platform.db,
    accountId,
    batch.map((contactId) => ({ contactId })),
  );
  const suppressed = await suppressedAmong(
    platform.db,
    accountId,
    resolved.flatMap((row) => (row.contact?.email ? [row.contact.email] : [])),
  );
  const recipients: (RecipientContact & { readonly email: string })[] = [];
  for (const row of resolved) {
    const contact = row.contact;
    if (!contact) {
      // Deleted since the group was evaluated.
      failures.push({
        contactId: batch[row.index] ?? 0,
        error: { code: 'CONTACT_NOT_FOUND', message: 'the contact was deleted before its message was sent' },
      });
      continue;
    }
    if (!contact.email) {
      failures.push({ contactId: contact.id, error: { code: 'NO_EMAIL', message: 'the contact has no email address' } });
      continue;
    }
    const suppression = suppressed.get(normalizeAddress(contact.email));
    if (suppression) {
      failures.push({ contactId: contact.id, error: { code: 'EMAIL_SUPPRESSED', message: suppressedReasonMessage[suppression] } });
      continue;
    }
    recipients.push({ ...contact, email: contact.email });
  }
  // The whole page in one call to the render threads; a template failure fails its recipient only.
  const rendered = (
    await renderMessages(
      message,
      recipients.map((contact) => ({ contact: templateContact(contact), data: dataByContact.get(contact.id) ?? {} })),
      platform.config,
    )
  ).map((result) => countRender(platform.metrics, result));
  const sends: SendToRecord[] = [];
  recipients.forEach((contact, index) => {
    const result = rendered[index];
    if (!result?.ok) {
      if (result) failures.push({ contactId: contact.id, error: templateFailure(result.part, result.error) });
      return;
    }
    sends.push(renderedSend(contact.id, contact.email, result, { broadcastId }));
  });
  const recorded = await recordSends(platform, accountId, message, sends);
  return { sent: alreadySent.size + recorded.length, failed: failures.length, failures };
}

/** Moves the cursor past a page with its counts in one statement; answers the status, which a cancel may have changed. */
async function recordProgress(platform: Platform, broadcastId: number, cursor: number, page: PageOutcome): Promise<BroadcastStatus> {
  const { rows } = await platform.db.query<{ status: BroadcastStatus }>(
    `UPDATE broadcasts
        SET cursor_contact_id = $2, sent = sent + $3, failed = failed + $4,
            failures = CASE WHEN jsonb_array_length(failures) >= $6 THEN failures
                            ELSE (SELECT coalesce(jsonb_agg(f ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements(failures || $5::jsonb) WITH ORDINALITY AS e(f, n) WHERE n <= $6) END,
            error_code = NULL, error_message = NULL, updated_at = now()
      WHERE id = $1
      RETURNING status`,
    [broadcastId, cursor, page.sent, page.failed, JSON.stringify(page.failures.slice(0, MAX_KEPT_FAILURES)), MAX_KEPT_FAILURES],
  );
  return rows[0]?.status ?? 'PAUSED';
}

async function finish(platform: Platform, broadcastId: number): Promise<BroadcastJobOutcome> {
  await withTransaction(platform.db, async (client) => {
    await client.query(`UPDATE broadcasts SET status = 'IDLE', updated_at = now() WHERE id = $1 AND status = 'RUNNING'`, [broadcastId]);
    await client.query('DELETE FROM broadcast_members WHERE broadcast_id = $1', [broadcastId]);
  });
  return 'finished';
}

async function forgetMembers(platform: Platform, broadcastId: number): Promise<void> {
  await platform.db.query('DELETE FROM broadcast_members WHERE broadcast_id = $1', [broadcastId]);
}

/** PAUSED with the reason: what seed 003 calls a broadcast "not stopped manually by you". */
export async function stopBroadcast(platform: Platform, broadcastId: number, error: { code: string; message: string }): Promise<void> {
  logger.warn('broadcast stopped', { broadcastId, code: error.code });
  await withTransaction(platform.db, async (client) => {
    await client.query(
      `UPDATE broadcasts SET status = 'PAUSED', error_code = $2, error_message = $3, updated_at = now() WHERE id = $1 AND status IN ('SCHEDULED', 'RUNNING')`,
      [broadcastId, error.code, error.message],
    );
    await client.query('DELETE FROM broadcast_members WHERE broadcast_id = $1', [broadcastId]);
  });
}

/** The last error of a job SQS will retry, for the status endpoint; cleared by the next page that commits. */
async function noteError(platform: Platform, broadcastId: number, error: { code: string; message: string }): Promise<void> {
  await platform.db
    .query('UPDATE broadcasts SET error_code = $2, error_message = $3, updated_at = now() WHERE id = $1', [broadcastId, error.code, error.message])
    .catch((failure: unknown) => logger.warn('could not record the broadcast error', { broadcastId, error: String(failure) }));
}
