import type { Pool } from 'pg';
import * as z from 'zod';
import { AppError, Conflict, NotFound } from '../errors';
import { CONTACT_COLUMNS, toContactView, type ContactRow, type ContactView } from '../contacts/read-contact';
import type { Platform } from '../platform';
import { getSource, legacyId, registerSourceUse, releaseSourceUse } from '../sources/sources';
import { withTransaction } from '../store/transaction';
import { conditionsSchema, sourcesOf, type Condition } from './conditions';
import { checkSegmentConditions, evaluateSegment } from './evaluate-segment';

/**
 * Conditional groups (dynamic segments): a group stores its conditions, never its members,
 * so a contact added or changed a moment ago is already in or out. For now the one
 * condition seed 002 needs: "Contact fields → External ID → is not set". Issue #5 extends
 * the vocabulary.
 */
export { conditionSchema, type Condition } from './conditions';

const groupName = z.string().trim().min(1).max(200);

export const conditionalGroupSchema = z.object({ name: groupName, conditions: conditionsSchema, legacyId: legacyId.optional() }).strict();

export const conditionalGroupChangesSchema = z
  .object({ name: groupName.optional(), legacyId: legacyId.nullable().optional() })
  .strict()
  .refine((changes) => changes.name !== undefined || changes.legacyId !== undefined, 'give name or legacyId');
export type ConditionalGroupChanges = z.output<typeof conditionalGroupChangesSchema>;
export type ConditionalGroupInput = z.output<typeof conditionalGroupSchema>;

export class GroupNotFound extends NotFound {
  constructor() {
    super('group', 'GROUP_NOT_FOUND');
  }
}

export interface ConditionalGroup {
  readonly id: number;
  readonly name: string;
  readonly type: 'dynamic';
  readonly conditions: readonly Condition[];
  /**
   * The id the segment had on the platform the account moved from: a regular workflow on it
   * emits `regularEventType-<legacyId>` (eSputnik's `regularEventType-170531841`).
   */
  readonly legacyId: number | null;
}

interface GroupRow {
  id: number;
  name: string;
  conditions: unknown;
  legacy_id: string | null;
}

const GROUP_COLUMNS = 'id, name, conditions, legacy_id';

export async function createConditionalGroup(platform: Platform, accountId: number, input: ConditionalGroupInput): Promise<ConditionalGroup> {
  await checkSegmentConditions(platform, accountId, input.conditions);
  return legacyIdTaken(() =>
    withTransaction(platform.db, async (client) => {
      if (input.legacyId !== undefined) await legacyIdFree(client, accountId, input.legacyId, null);
      const { rows } = await client.query<GroupRow>(
        `INSERT INTO segments (account_id, name, conditions, legacy_id) VALUES ($1, $2, $3::jsonb, $4) RETURNING ${GROUP_COLUMNS}`,
        [accountId, input.name, JSON.stringify(input.conditions), input.legacyId ?? null],
      );
      const created = groupOf(rows[0]!);
      // A source a segment reads cannot be deleted from under it without force.
      for (const sourceId of sourcesOf(input.conditions)) {
        await getSource(client, accountId, sourceId);
        await registerSourceUse(client, sourceId, { kind: 'segment', id: String(created.id) });
      }
      return created;
    }),
  );
}

/** Renames a group, and sets or removes its legacy id; its conditions stay as saved. */
export async function updateConditionalGroup(
  db: Pool,
  accountId: number,
  groupId: number,
  changes: ConditionalGroupChanges,
): Promise<ConditionalGroup> {
  return legacyIdTaken(async () => {
    if (changes.legacyId != null) await legacyIdFree(db, accountId, changes.legacyId, groupId);
    const { rows } = await db.query<GroupRow>(
      `UPDATE segments SET name = coalesce($3, name), legacy_id = CASE WHEN $4 THEN $5::bigint ELSE legacy_id END, updated_at = now()
        WHERE account_id = $1 AND id = $2 RETURNING ${GROUP_COLUMNS}`,
      [accountId, groupId, changes.name ?? null, changes.legacyId !== undefined, changes.legacyId ?? null],
    );
    if (!rows[0]) throw new GroupNotFound();
    return groupOf(rows[0]);
  });
}

/** Not another group's own id either: `regularEventType-<n>` would then name two segments. */
async function legacyIdFree(db: Pick<Pool, 'query'>, accountId: number, legacy: number, groupId: number | null): Promise<void> {
  const { rows } = await db.query('SELECT 1 FROM segments WHERE account_id = $1 AND id = $2 AND id IS DISTINCT FROM $3::bigint', [
    accountId,
    legacy,
    groupId,
  ]);
  if (rows.length > 0) throw new Conflict(`${legacy} is the id of another group of this account`, 'LEGACY_ID_TAKEN');
}

async function legacyIdTaken<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'segments_account_legacy_id')
      throw new Conflict('another group of this account has this legacy id', 'LEGACY_ID_TAKEN');
    throw error;
  }
}

export async function listConditionalGroups(db: Pool, accountId: number): Promise<ConditionalGroup[]> {
  const { rows } = await db.query<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM segments WHERE account_id = $1 ORDER BY id`, [accountId]);
  return rows.map(groupOf);
}

/**
 * Deletes a group, and its claims on data sources. Refused while a regular workflow runs on
 * it or a broadcast to it has not ended: they would fail from then on.
 */
export async function deleteConditionalGroup(db: Pool, accountId: number, groupId: number): Promise<void> {
  await withTransaction(db, async (client) => {
    const { rows } = await client.query<{ conditions: unknown }>('SELECT conditions FROM segments WHERE account_id = $1 AND id = $2 FOR UPDATE', [
      accountId,
      groupId,
    ]);
    const row = rows[0];
    if (!row) throw new GroupNotFound();
    const users = await client.query<{ kind: string; id: number }>(
      `SELECT 'workflow' AS kind, id FROM regular_workflows WHERE account_id = $1 AND segment_id = $2
       UNION ALL
       SELECT 'broadcast', id FROM broadcasts WHERE account_id = $1 AND $2 = ANY(group_ids) AND status IN ('SCHEDULED', 'RUNNING', 'PAUSED')
       ORDER BY 1, 2 LIMIT 20`,
      [accountId, groupId],
    );
    if (users.rows.length > 0) {
      throw new AppError(
        'conflict',
        'GROUP_IN_USE',
        'this group is used; delete its regular workflows and let its broadcasts end (or cancel them) first',
        users.rows.map((user) => ({ path: `${user.kind}/${user.id}`, message: `used by ${user.kind} ${user.id}` })),
      );
    }
    for (const sourceId of sourcesOf(conditionsSchema.parse(row.conditions)))
      await releaseSourceUse(client, sourceId, { kind: 'segment', id: String(groupId) });
    await client.query('DELETE FROM segments WHERE id = $1', [groupId]);
  });
}

export async function getConditionalGroup(db: Pool, accountId: number, groupId: number): Promise<ConditionalGroup> {
  const { rows } = await db.query<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM segments WHERE account_id = $1 AND id = $2`, [accountId, groupId]);
  const row = rows[0];
  if (!row) throw new GroupNotFound();
  return groupOf(row);
}

function groupOf(row: GroupRow): ConditionalGroup {
  return {
    id: row.id,
    name: row.name,
    type: 'dynamic',
    conditions: conditionsSchema.parse(row.conditions),
    legacyId: row.legacy_id === null ? null : Number(row.legacy_id),
  };
}

/**
 * The group's members now, by id: conditions on contact fields run on the account's
 * contacts, conditions on an external source run in the customer's database (issue #5).
 */
export async function listGroupContacts(
  platform: Platform,
  accountId: number,
  groupId: number,
  page: { startIndex: number; maxRows: number },
): Promise<{ total: number; contacts: ContactView[] }> {
  const group = await getConditionalGroup(platform.db, accountId, groupId);
  const members = await evaluateSegment(platform, accountId, group.conditions);
  const total = members.length;
  const ids = members.slice(page.startIndex - 1, page.startIndex - 1 + page.maxRows);
  if (ids.length === 0) return { total, contacts: [] };
  const { rows } = await platform.db.query<ContactRow>(
    `SELECT ${CONTACT_COLUMNS} FROM contacts c WHERE c.account_id = $1 AND c.id = ANY($2::bigint[]) ORDER BY c.id`,
    [accountId, ids],
  );
  return { total, contacts: rows.map(toContactView) };
}

/**
 * How many contacts the conditions select now: the same evaluation as the member list, but
 * no contact row is read and nothing is saved, so a builder can count as its user edits.
 */
export async function countSegmentMembers(platform: Platform, accountId: number, conditions: readonly Condition[]): Promise<number> {
  await checkSegmentConditions(platform, accountId, conditions);
  return (await evaluateSegment(platform, accountId, conditions)).length;
}

/** A saved group's member count, without its members' rows. */
export async function countGroupMembers(platform: Platform, accountId: number, groupId: number): Promise<number> {
  const group = await getConditionalGroup(platform.db, accountId, groupId);
  return (await evaluateSegment(platform, accountId, group.conditions)).length;
}
