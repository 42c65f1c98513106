import type { Pool } from 'pg';
import * as z from 'zod';
import { NotFound, ValidationFailed } from '../errors';
import { getEmailMessage } from '../messages/messages';
import type { Platform } from '../platform';
import { nextRunAfter } from '../schedules/expression';
import { getConditionalGroup } from '../segments/conditional-groups';
import { getSource, registerSourceUse, releaseSourceUse } from '../sources/sources';
import { withTransaction } from '../store/transaction';
import { regularEventTypeKey } from './json-param';

/**
 * Regular workflows: on a schedule, every member of a dynamic segment receives the event
 * `regularEventType-<segmentId>` with the rows of the named sources as `jsonParam`, and,
 * when the workflow names a message, that message rendered with those rows.
 */
export const TRIGGER_EVENTS_TARGET = 'triggerEvents';

export const regularWorkflowSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    segmentId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    sourceIds: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).max(10).default([]),
    messageId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullish(),
    /** EventBridge Scheduler expression; default every day at 09:00 UTC. */
    schedule: z.string().trim().max(100).default('cron(0 9 * * ? *)'),
    enabled: z.boolean().default(true),
  })
  .strict();
export type RegularWorkflowInput = z.output<typeof regularWorkflowSchema>;

export interface RegularWorkflow {
  readonly id: number;
  readonly name: string;
  readonly segmentId: number;
  readonly sourceIds: readonly number[];
  readonly messageId: number | null;
  readonly schedule: string;
  readonly enabled: boolean;
  readonly eventTypeKey: string;
  /** The last run, scheduled or "run now": how many members it queued, or why it failed. */
  readonly lastRun?: WorkflowRunOutcome;
}

export interface WorkflowRunOutcome {
  readonly at: string;
  readonly status: 'QUEUED' | 'FAILED';
  readonly queuedMembers?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

export class WorkflowNotFound extends NotFound {
  constructor() {
    super('workflow', 'WORKFLOW_NOT_FOUND');
  }
}

interface WorkflowRow {
  id: number;
  name: string;
  segment_id: number;
  /** The segment's legacy id, which names the event when set. */
  segment_legacy_id: string | null;
  source_ids: number[];
  message_id: number | null;
  schedule: string;
  enabled: boolean;
  last_run_at: Date | null;
  last_run_members: number | null;
  last_run_error_code: string | null;
  last_run_error_message: string | null;
}

function toWorkflow(row: WorkflowRow): RegularWorkflow {
  return {
    id: row.id,
    name: row.name,
    segmentId: row.segment_id,
    sourceIds: row.source_ids.map(Number),
    messageId: row.message_id,
    schedule: row.schedule,
    enabled: row.enabled,
    eventTypeKey: regularEventTypeKey(row.segment_legacy_id === null ? row.segment_id : Number(row.segment_legacy_id)),
    ...(row.last_run_at ? { lastRun: runOutcomeOf(row, row.last_run_at) } : {}),
  };
}

function runOutcomeOf(row: WorkflowRow, at: Date): WorkflowRunOutcome {
  if (row.last_run_error_code !== null) {
    return { at: at.toISOString(), status: 'FAILED', error: { code: row.last_run_error_code, message: row.last_run_error_message ?? '' } };
  }
  return { at: at.toISOString(), status: 'QUEUED', queuedMembers: row.last_run_members ?? 0 };
}

/** Kept on the workflow until its next run: a scheduled run has nobody else to tell. */
export async function recordWorkflowRun(
  db: Pool,
  workflowId: number,
  at: Date,
  outcome: { members: number } | { error: { code: string; message: string } },
): Promise<void> {
  const failed = 'error' in outcome;
  await db.query(
    'UPDATE regular_workflows SET last_run_at = $2, last_run_members = $3, last_run_error_code = $4, last_run_error_message = $5 WHERE id = $1',
    [workflowId, at, failed ? null : outcome.members, failed ? outcome.error.code : null, failed ? outcome.error.message : null],
  );
}

const SELECT_WORKFLOWS = 'SELECT w.*, s.legacy_id AS segment_legacy_id FROM regular_workflows w JOIN segments s ON s.id = w.segment_id';

export const scheduleNameOf = (workflowId: number): string => `regular-workflow-${workflowId}`;

export async function createRegularWorkflow(platform: Platform, accountId: number, input: RegularWorkflowInput): Promise<RegularWorkflow> {
  try {
    nextRunAfter(input.schedule, platform.clock.now());
  } catch {
    throw new ValidationFailed(
      'schedule must be rate(N minutes|hours|days), at most a year, or cron(m h * * ? *) with a real minute and hour',
      [{ path: 'body.schedule', message: 'unsupported expression' }],
      'INVALID_SCHEDULE',
    );
  }
  const segment = await getConditionalGroup(platform.db, accountId, input.segmentId);
  if (input.messageId) await getEmailMessage(platform.db, accountId, input.messageId);
  const workflow = await withTransaction(platform.db, async (client) => {
    for (const sourceId of input.sourceIds) await getSource(client, accountId, sourceId);
    const { rows } = await client.query<WorkflowRow>(
      `INSERT INTO regular_workflows (account_id, name, segment_id, source_ids, message_id, schedule, enabled)
       VALUES ($1, $2, $3, $4::bigint[], $5, $6, $7) RETURNING *, $8::bigint AS segment_legacy_id`,
      [accountId, input.name, input.segmentId, input.sourceIds, input.messageId ?? null, input.schedule, input.enabled, segment.legacyId],
    );
    const created = toWorkflow(rows[0]!);
    for (const sourceId of input.sourceIds) await registerSourceUse(client, sourceId, { kind: 'workflow', id: String(created.id) });
    return created;
  });
  await platform.scheduler.upsert({
    name: scheduleNameOf(workflow.id),
    expression: workflow.schedule,
    target: TRIGGER_EVENTS_TARGET,
    detail: { accountId, workflowId: workflow.id },
    enabled: workflow.enabled,
  });
  return workflow;
}

export async function getRegularWorkflow(db: Pool, accountId: number, workflowId: number): Promise<RegularWorkflow> {
  const { rows } = await db.query<WorkflowRow>(`${SELECT_WORKFLOWS} WHERE w.account_id = $1 AND w.id = $2`, [accountId, workflowId]);
  if (!rows[0]) throw new WorkflowNotFound();
  return toWorkflow(rows[0]);
}

export async function listRegularWorkflows(db: Pool, accountId: number): Promise<RegularWorkflow[]> {
  const { rows } = await db.query<WorkflowRow>(`${SELECT_WORKFLOWS} WHERE w.account_id = $1 ORDER BY w.id`, [accountId]);
  return rows.map(toWorkflow);
}

export async function deleteRegularWorkflow(platform: Platform, accountId: number, workflowId: number): Promise<void> {
  const workflow = await getRegularWorkflow(platform.db, accountId, workflowId);
  await platform.scheduler.delete(scheduleNameOf(workflowId));
  await withTransaction(platform.db, async (client) => {
    await client.query('DELETE FROM regular_workflows WHERE account_id = $1 AND id = $2', [accountId, workflowId]);
    for (const sourceId of workflow.sourceIds) await releaseSourceUse(client, sourceId, { kind: 'workflow', id: String(workflowId) });
  });
}
