import type { Pool } from 'pg';
import { NotFound } from '../errors';

/**
 * Static groups: the names contact/subscribe (and contacts/upload's groupNames) put on a
 * contact. The API names a group by id, so each name gets one, on first sight; ids come
 * from their own range (see migration 2600), never a dynamic group's.
 */
export interface StaticGroup {
  readonly id: number;
  readonly name: string;
  readonly type: 'static';
}

export class StaticGroupNotFound extends NotFound {
  constructor() {
    super('static group', 'GROUP_NOT_FOUND');
  }
}

/** Gives every group name the account's contacts carry an id, and lists them. */
export async function listStaticGroups(db: Pool, accountId: number): Promise<StaticGroup[]> {
  await db.query(
    `INSERT INTO static_groups (account_id, name)
     SELECT DISTINCT $1::bigint, g FROM contacts c CROSS JOIN LATERAL unnest(c.groups) AS g
      WHERE c.account_id = $1 AND cardinality(c.groups) > 0
     ON CONFLICT (account_id, name) DO NOTHING`,
    [accountId],
  );
  const { rows } = await db.query<{ id: number; name: string }>('SELECT id, name FROM static_groups WHERE account_id = $1 ORDER BY id', [accountId]);
  return rows.map((row) => ({ id: Number(row.id), name: row.name, type: 'static' as const }));
}

/**
 * Takes these contacts out of a static group (eSputnik's detach). Contacts not in it, or
 * not the account's, are left alone; answers how many left the group.
 */
export async function detachFromStaticGroup(db: Pool, accountId: number, groupId: number, contactIds: readonly number[]): Promise<number> {
  await listStaticGroups(db, accountId);
  const { rows } = await db.query<{ name: string }>('SELECT name FROM static_groups WHERE account_id = $1 AND id = $2', [accountId, groupId]);
  const name = rows[0]?.name;
  if (name === undefined) throw new StaticGroupNotFound();
  const { rowCount } = await db.query(
    `UPDATE contacts SET groups = array_remove(groups, $3), updated_at = now()
      WHERE account_id = $1 AND id = ANY($2::bigint[]) AND $3 = ANY(groups)`,
    [accountId, contactIds, name],
  );
  return rowCount ?? 0;
}
