import type { Pool } from 'pg';
import { z } from 'zod';
import { AppError, NotFound } from '../errors';
import { CONTACT_COLUMNS, toContactView, type ContactRow, type ContactView } from '../contacts/read-contact';
import type { Platform } from '../platform';
import { getSource, registerSourceUse, releaseSourceUse } from '../sources/sources';
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

export const conditionalGroupSchema = z
  .object({ name: z.string().trim().min(1).max(200), conditions: conditionsSchema })
  .strict();
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
}

export async function createConditionalGroup(platform: Platform, accountId: number, input: ConditionalGroupInput): Promise<ConditionalGroup> {
  await checkSegmentConditions(platform, accountId, input.conditions);
  return withTransaction(platform.db, async (client) => {
    const { rows } = await client.query<{ id: number }>('INSERT INTO segments (account_id, name, conditions) VALUES ($1, $2, $3::jsonb) RETURNING id', [
      accountId,
      input.name,
      JSON.stringify(input.conditions),
    ]);
    const id = rows[0]?.id ?? 0;
    // A source a segment reads cannot be deleted from under it without force.
    for (const sourceId of sourcesOf(input.conditions)) {
      await getSource(client, accountId, sourceId);
      await registerSourceUse(client, sourceId, { kind: 'segment', id: String(id) });
    }
    return { id, name: input.name, type: 'dynamic' as const, conditions: input.conditions };
  });
}

export async function listConditionalGroups(db: Pool, accountId: number): Promise<ConditionalGroup[]> {
  const { rows } = await db.query<{ id: number; name: string; conditions: unknown }>('SELECT id, name, conditions FROM segments WHERE account_id = $1 ORDER BY id', [
    accountId,
  ]);
  return rows.map(groupOf);
}

/**
 * Deletes a group, and its claims on data sources. Refused while a regular workflow runs on
 * it or a broadcast to it has not ended: they would fail from then on.
 */
export async function deleteConditionalGroup(db: Pool, accountId: number, groupId: number): Promise<void> {
  await withTransaction(db, async (client) => {
    const { rows } = await client.query<{ conditions: unknown }>('SELECT conditions FROM segments WHERE account_id = $1 AND id = $2 FOR UPDATE', [accountId, groupId]);
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
    for (const sourceId of sourcesOf(conditionsSchema.parse(row.conditions))) await releaseSourceUse(client, sourceId, { kind: 'segment', id: String(groupId) });
    await client.query('DELETE FROM segments WHERE id = $1', [groupId]);
  });
}

export async function getConditionalGroup(db: Pool, accountId: number, groupId: number): Promise<ConditionalGroup> {
  const { rows } = await db.query<{ id: number; name: string; conditions: unknown }>('SELECT id, name, conditions FROM segments WHERE account_id = $1 AND id = $2', [
    accountId,
    groupId,
  ]);
  const row = rows[0];
  if (!row) throw new GroupNotFound();
  return groupOf(row);
}

function groupOf(row: { id: number; name: string; conditions: unknown }): ConditionalGroup {
  return { id: row.id, name: row.name, type: 'dynamic', conditions: conditionsSchema.parse(row.conditions) };
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
  const { rows } = await platform.db.query<ContactRow>(`SELECT ${CONTACT_COLUMNS} FROM contacts c WHERE c.account_id = $1 AND c.id = ANY($2::bigint[]) ORDER BY c.id`, [
    accountId,
    ids,
  ]);
  return { total, contacts: rows.map(toContactView) };
}
