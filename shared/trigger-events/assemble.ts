import * as z from 'zod';
import { getConnector } from '../connectors/connector';
import { resolveRecipients } from '../contacts/resolve-recipients';
import { AppError } from '../errors';
import { logger } from '../logger';
import { getEmailMessage, type EmailMessage } from '../messages/messages';
import { MessageNotFound } from '../messages/errors';
import { recordSends, renderedSend, type SendToRecord } from '../messages/record-sends';
import { renderMessages, templateContact, type TemplateContact } from '../messages/render-message';
import type { Platform } from '../platform';
import { getConditionalGroup } from '../segments/conditional-groups';
import { evaluateSegment, keysOfContacts } from '../segments/evaluate-segment';
import type { ContactKey } from '../sources/contact-keys';
import { lookupRows } from '../sources/lookup';
import { getSource, listSources, withSourceAliases } from '../sources/sources';
import { withTransaction } from '../store/transaction';
import { QUEUE_RETENTION_DAYS } from '../topology';
import { dataFromJsonParam } from '../messages/triggered-data';
import { triggerEventParams, type EventParam, type ExternalRow } from './json-param';
import { getRegularWorkflow, recordWorkflowRun, WorkflowNotFound, type RegularWorkflow } from './workflows';
import { countRender } from '../messages/count-render';

/** Members per queue message: one page is one batched lookup per source and one insert. */
export const PAGE_SIZE = 1000;

export const pageSchema = z
  .object({
    accountId: z.number().int().positive(),
    workflowId: z.number().int().positive(),
    /** The UTC day of the run (YYYY-MM-DD): one event per contact, segment and day. */
    day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    contactIds: z.array(z.number().int().positive()).min(1).max(PAGE_SIZE),
    /** Its row in trigger_event_pages (migration 503), removed once the page is done. */
    pageId: z.number().int().positive().optional(),
  })
  .strict();
export type TriggerEventPage = z.output<typeof pageSchema>;

/** "Run now": a disabled workflow is refused, where its schedule would just pass. */
export async function runWorkflowNow(platform: Platform, accountId: number, workflowId: number, at: Date): Promise<number> {
  const workflow = await getRegularWorkflow(platform.db, accountId, workflowId);
  if (!workflow.enabled) throw new AppError('conflict', 'WORKFLOW_DISABLED', 'this workflow is disabled; enable it to run it');
  return startWorkflowRun(platform, accountId, workflowId, at);
}

/**
 * A schedule fired for a workflow: evaluates its segment now and queues the members in
 * pages. Returns how many members were queued.
 */
export async function startWorkflowRun(platform: Platform, accountId: number, workflowId: number, at: Date): Promise<number> {
  const workflow = await getRegularWorkflow(platform.db, accountId, workflowId);
  if (!workflow.enabled) return 0;
  let members: number[];
  try {
    const segment = await getConditionalGroup(platform.db, accountId, workflow.segmentId);
    members = await evaluateSegment(platform, accountId, segment.conditions);
  } catch (error) {
    if (error instanceof AppError)
      await recordWorkflowRun(platform.db, workflowId, platform.clock.now(), { error: { code: error.code, message: error.message } });
    throw error;
  }
  const day = at.toISOString().slice(0, 10);
  // Kept (committed) before they are queued: a consumer may take the first page while later
  // ones are still being sent. One statement: the pages are cut from the members in the store,
  // and the workflow's pages left older than SQS keeps a message (dead-lettered or lost, their
  // rows would wait for ever) are cleared on the way.
  const { rows } = await platform.db.query<PageRow>(
    `WITH stale AS (
       DELETE FROM trigger_event_pages WHERE account_id = $1 AND workflow_id = $2 AND created_at < now() - make_interval(days => $6)
     )
     INSERT INTO trigger_event_pages (account_id, workflow_id, day, contact_ids)
     SELECT $1, $2, $3::date, members[page_start : page_start + $5 - 1]
       FROM (SELECT $4::bigint[] AS members) given, generate_series(1, cardinality($4::bigint[]), $5) AS page_start
     RETURNING ${PAGE_COLUMNS}`,
    [accountId, workflowId, day, members, PAGE_SIZE, QUEUE_RETENTION_DAYS],
  );
  const pages = rows.map(pageOf);
  try {
    await platform.queue.send(
      'triggerEvents',
      pages.map((page) => ({ body: JSON.stringify(page) })),
    );
  } catch (error) {
    // The schedule's retry starts the run again with pages of its own.
    await platform.db.query('DELETE FROM trigger_event_pages WHERE id = ANY($1::bigint[])', [pages.map((page) => page.pageId)]);
    throw error;
  }
  await recordWorkflowRun(platform.db, workflowId, platform.clock.now(), { members: members.length });
  return members.length;
}

/**
 * For a queue that lost what it held (the local runtime's SQS server keeps messages in memory
 * only): queues again every page of a run that was not assembled yet. Returns how many.
 */
export async function requeueTriggerEventPages(platform: Platform): Promise<number> {
  const { rows } = await platform.db.query<PageRow>(`SELECT ${PAGE_COLUMNS} FROM trigger_event_pages ORDER BY id`);
  await platform.queue.send(
    'triggerEvents',
    rows.map((row) => ({ body: JSON.stringify(pageOf(row)) })),
  );
  return rows.length;
}

/** A stored page as the queue carries it (bigint[] as JSON, so its ids arrive as numbers). */
const PAGE_COLUMNS = `id, account_id, workflow_id, to_char(day, 'YYYY-MM-DD') AS day, array_to_json(contact_ids) AS contact_ids`;

interface PageRow {
  id: number;
  account_id: number;
  workflow_id: number;
  day: string;
  contact_ids: number[];
}

function pageOf(row: PageRow): TriggerEventPage {
  return { accountId: row.account_id, workflowId: row.workflow_id, day: row.day, contactIds: row.contact_ids, pageId: row.id };
}

export interface AssembledEvent {
  readonly contactId: number;
  readonly email: string | null;
  readonly params: readonly EventParam[];
}

/** The events of a page's members: rows per source fetched once per source for the whole page. */
export async function assembleEvents(
  platform: Platform,
  accountId: number,
  workflow: RegularWorkflow,
  contactIds: readonly number[],
): Promise<AssembledEvent[]> {
  const rowsBySource = new Map<number, Map<number, ExternalRow[]>>();
  // jsonParam's key for each source: the legacy id a migrated account's templates and event
  // consumers read (`data.get('1043')`), else the source's own id.
  const keyOf = new Map<number, number>();
  let contacts: ContactKey[] | undefined;
  for (const sourceId of workflow.sourceIds) {
    const source = await getSource(platform.db, accountId, sourceId);
    keyOf.set(sourceId, source.legacyId ?? sourceId);
    const connector = await getConnector(platform.db, accountId, source.connectorId);
    const keys = await keysOfContacts(platform.db, accountId, connector.uniqueKey.contactField, contactIds);
    contacts ??= keys;
    const rows = await lookupRows(platform, source, keys);
    rowsBySource.set(sourceId, new Map(keys.map((contact) => [contact.contactId, contact.key === null ? [] : (rows.get(contact.key) ?? [])])));
  }
  contacts ??= await keysOfContacts(platform.db, accountId, 'contactId', contactIds);
  return contacts.map((contact) => ({
    contactId: contact.contactId,
    email: contact.email,
    params: triggerEventParams({
      contactId: contact.contactId,
      email: contact.email,
      rows: new Map(
        workflow.sourceIds.map((sourceId) => [keyOf.get(sourceId) ?? sourceId, rowsBySource.get(sourceId)?.get(contact.contactId) ?? []]),
      ),
    }),
  }));
}

interface EmittedEvent {
  readonly id: number;
  readonly contact_id: number;
  readonly event_type_id: number;
  readonly event_key: string;
}

/**
 * Stores the events of members not yet served today, in one statement: the ledger row and
 * the event commit together, so a re-run page (redelivery, a second firing) emits nothing twice.
 * The events' sequence is looked up once per statement (an InitPlan), not once per row.
 */
async function emitEvents(
  platform: Platform,
  accountId: number,
  workflow: RegularWorkflow,
  day: string,
  events: readonly AssembledEvent[],
): Promise<EmittedEvent[]> {
  if (events.length === 0) return [];
  return withTransaction(platform.db, async (client) => {
    const type = await client.query<{ id: number }>(
      `INSERT INTO event_types (account_id, key) VALUES ($1, $2)
       ON CONFLICT (account_id, key) DO UPDATE SET key = EXCLUDED.key RETURNING id`,
      [accountId, workflow.eventTypeKey],
    );
    const typeId = type.rows[0]!.id;
    const { rows } = await client.query<EmittedEvent>(
      `WITH input AS (
         SELECT * FROM unnest($5::bigint[], $6::text[], $7::text[]) AS i(contact_id, email, params)
       ), claimed AS (
         INSERT INTO trigger_event_emissions (account_id, segment_id, contact_id, day, workflow_id, event_id)
         SELECT $1, $2, i.contact_id, $3::date, $4, nextval((SELECT pg_get_serial_sequence('events', 'id')::regclass)) FROM input i
         ON CONFLICT DO NOTHING
         RETURNING contact_id, event_id
       )
       INSERT INTO events (id, account_id, event_type_id, key_value, contact_id, params, occurred_at)
       OVERRIDING SYSTEM VALUE
       SELECT c.event_id, $1, $8, coalesce(nullif(i.email, ''), i.contact_id::text), c.contact_id, i.params::jsonb, $9
         FROM claimed c JOIN input i USING (contact_id)
       RETURNING id, contact_id, event_type_id, event_key::text`,
      [
        accountId,
        workflow.segmentId,
        day,
        workflow.id,
        events.map((event) => event.contactId),
        events.map((event) => event.email ?? ''),
        events.map((event) => JSON.stringify(event.params)),
        typeId,
        platform.clock.now(),
      ],
    );
    return rows;
  });
}

/** Renders and records the workflow's message for the events just emitted, `$data` from their jsonParam. */
async function sendWorkflowMessage(
  platform: Platform,
  accountId: number,
  workflow: RegularWorkflow,
  message: EmailMessage,
  emitted: readonly EmittedEvent[],
  events: ReadonlyMap<number, AssembledEvent>,
): Promise<number> {
  const field = message.jsonParamField ?? 'jsonParam';
  const resolved = await resolveRecipients(
    platform.db,
    accountId,
    emitted.map((event) => ({ contactId: event.contact_id })),
  );
  const sources = await listSources(platform.db, accountId);
  const toRender: {
    readonly event: EmittedEvent;
    readonly email: string;
    readonly contact: TemplateContact;
    readonly data: Readonly<Record<string, unknown>>;
  }[] = [];
  emitted.forEach((event, index) => {
    const contact = resolved[index]?.contact;
    if (!contact?.email) return;
    const data = withSourceAliases(
      dataFromJsonParam(events.get(event.contact_id)?.params.find((param) => param.name === field)?.value) ?? {},
      sources,
    );
    toRender.push({ event, email: contact.email, contact: templateContact(contact), data });
  });
  // The page's recipients in one call to the render threads; a template failure skips its recipient only.
  const rendered = (await renderMessages(message, toRender, platform.config)).map((result) => countRender(platform.metrics, result));
  const sends: SendToRecord[] = [];
  toRender.forEach(({ event, email, contact }, index) => {
    const result = rendered[index];
    if (!result?.ok) {
      if (result)
        logger.warn('workflow message did not render', {
          workflowId: workflow.id,
          contactId: contact.id,
          code: result.error.code,
          line: result.error.line,
          column: result.error.column,
        });
      return;
    }
    sends.push(
      renderedSend(contact.id, email, result, {
        workflowId: workflow.id,
        sourceEventId: event.id,
        sourceEventKey: event.event_key,
        sourceEventTypeId: event.event_type_id,
        sourceEventTypeKey: workflow.eventTypeKey,
      }),
    );
  });
  await recordSends(platform, accountId, message, sends);
  return sends.length;
}

export interface PageOutcome {
  readonly emitted: number;
  readonly alreadyEmitted: number;
  readonly sent: number;
}

/** One queued page: assemble, emit what was not emitted yet, send the workflow's message. */
export async function assemblePage(platform: Platform, page: TriggerEventPage): Promise<PageOutcome> {
  let workflow: RegularWorkflow;
  try {
    workflow = await getRegularWorkflow(platform.db, page.accountId, page.workflowId);
  } catch (error) {
    // Deleted since the run started: nothing to do, and nothing to retry.
    if (error instanceof WorkflowNotFound) {
      await pageDone(platform, page);
      return { emitted: 0, alreadyEmitted: 0, sent: 0 };
    }
    throw error;
  }
  const done = await platform.db.query<{ contact_id: number }>(
    `SELECT contact_id FROM trigger_event_emissions WHERE account_id = $1 AND segment_id = $2 AND day = $3::date AND contact_id = ANY($4::bigint[])`,
    [page.accountId, workflow.segmentId, page.day, page.contactIds],
  );
  const served = new Set(done.rows.map((row) => row.contact_id));
  const pending = page.contactIds.filter((id) => !served.has(id));
  const events = await assembleEvents(platform, page.accountId, workflow, pending);
  const emitted = await emitEvents(platform, page.accountId, workflow, page.day, events);
  let sent = 0;
  if (workflow.messageId !== null && emitted.length > 0) {
    const message = await getEmailMessage(platform.db, page.accountId, workflow.messageId).catch((error: unknown) => {
      if (error instanceof MessageNotFound) return undefined;
      throw error;
    });
    if (message)
      sent = await sendWorkflowMessage(
        platform,
        page.accountId,
        workflow,
        message,
        emitted,
        new Map(events.map((event) => [event.contactId, event])),
      );
  }
  await pageDone(platform, page);
  return { emitted: emitted.length, alreadyEmitted: page.contactIds.length - emitted.length, sent };
}

async function pageDone(platform: Platform, page: TriggerEventPage): Promise<void> {
  if (page.pageId !== undefined)
    await platform.db.query('DELETE FROM trigger_event_pages WHERE id = $1 AND account_id = $2', [page.pageId, page.accountId]);
}
