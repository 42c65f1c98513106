import type { Pool } from 'pg';
import { z } from 'zod';
import { NotFound } from '../errors';
import { CONTACT_COLUMNS, toContactView, type ContactRow, type ContactView } from '../contacts/read-contact';
import type { Platform } from '../platform';
import { getSource, registerSourceUse } from '../sources/sources';
import { withTransaction } from '../store/transaction';
import { conditionsSchema, sourcesOf, type Condition } from './conditions';
import { evaluateSegment } from './evaluate-segment';

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

export async function createConditionalGroup(db: Pool, accountId: number, input: ConditionalGroupInput): Promise<ConditionalGroup> {
  return withTransaction(db, async (client) => {
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

export async function getConditionalGroup(db: Pool, accountId: number, groupId: number): Promise<ConditionalGroup> {
  const { rows } = await db.query<{ id: number; name: string; conditions: unknown }>('SELECT id, name, conditions FROM segments WHERE account_id = $1 AND id = $2', [
    accountId,
    groupId,
  ]);
  const row = rows[0];
  if (!row) throw new GroupNotFound();
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
