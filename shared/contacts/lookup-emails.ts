import type { Pool } from 'pg';
import { normalizeEmail } from './channels';

export const MAX_LOOKUP_VALUES = 500;

/**
 * eSputnik's "contacts/email": the live contacts' email addresses, by contact ids or by the
 * addresses themselves (a contact with two addresses answers once per address).
 */
export async function contactEmails(
  db: Pool,
  accountId: number,
  by: { ids?: readonly number[]; emails?: readonly string[] },
): Promise<{ id: number; email: string }[]> {
  const normalized = (by.emails ?? []).flatMap((email) => normalizeEmail(email) ?? []);
  const { rows } = await db.query<{ id: number; email: string }>(
    `SELECT c.id, ch.value AS email FROM contacts c JOIN contact_channels ch ON ch.contact_id = c.id AND ch.type = 'email'
      WHERE c.account_id = $1 AND c.deleted_at IS NULL AND (c.id = ANY($2::bigint[]) OR ch.normalized = ANY($3::text[]))
      ORDER BY c.id, ch.position`,
    [accountId, by.ids ?? [], normalized],
  );
  return rows.map((row) => ({ id: Number(row.id), email: row.email }));
}
