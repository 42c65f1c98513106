import type { Pool } from 'pg';
import { ValidationFailed } from '../errors';
import { normalizeEmail, normalizePhone } from './channels';
import { CONTACT_COLUMNS, toContactView, type ContactRow, type ContactView } from './read-contact';

export interface ContactSearch {
  readonly email?: string;
  readonly sms?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly externalCustomerId?: string;
  /** 1-based, as the platform's API pages. */
  readonly startIndex: number;
  readonly maxRows: number;
}

export interface ContactPage {
  readonly total: number;
  readonly contacts: readonly ContactView[];
}

/**
 * Search contacts (seed 002): searching by externalCustomerId is unique, so it may not be
 * combined with any other criterion. Live contacts only, ordered by id.
 */
export async function searchContacts(db: Pool, accountId: number, search: ContactSearch): Promise<ContactPage> {
  const criteria = [search.email, search.sms, search.firstName, search.lastName].filter((value) => value !== undefined);
  if (search.externalCustomerId !== undefined && criteria.length > 0) {
    throw new ValidationFailed('externalCustomerId cannot be combined with other search parameters', undefined, 'EXTERNAL_ID_EXCLUSIVE');
  }
  const values: unknown[] = [accountId];
  const where = ['c.account_id = $1', 'c.deleted_at IS NULL'];
  const channel = (type: 'email' | 'sms', normalized: string | undefined) => {
    // A value that cannot be an email or phone matches no contact rather than failing.
    values.push(type, normalized ?? '');
    where.push(
      `EXISTS (SELECT 1 FROM contact_channels ch WHERE ch.account_id = $1 AND ch.contact_id = c.id AND ch.type = $${values.length - 1} AND ch.normalized = $${values.length})`,
    );
  };
  if (search.externalCustomerId !== undefined) {
    values.push(search.externalCustomerId);
    where.push(`c.external_customer_id = $${values.length}`);
  }
  if (search.email !== undefined) channel('email', normalizeEmail(search.email));
  if (search.sms !== undefined) channel('sms', normalizePhone(search.sms));
  if (search.firstName !== undefined) {
    values.push(search.firstName);
    where.push(`lower(c.first_name) = lower($${values.length})`);
  }
  if (search.lastName !== undefined) {
    values.push(search.lastName);
    where.push(`lower(c.last_name) = lower($${values.length})`);
  }
  const filter = where.join(' AND ');
  const count = await db.query<{ total: number }>(`SELECT count(*)::int AS total FROM contacts c WHERE ${filter}`, values);
  const total = count.rows[0]?.total ?? 0;
  if (total === 0 || search.startIndex > total) return { total, contacts: [] };
  const { rows } = await db.query<ContactRow>(
    `SELECT ${CONTACT_COLUMNS} FROM contacts c WHERE ${filter} ORDER BY c.id OFFSET $${values.length + 1} LIMIT $${values.length + 2}`,
    [...values, search.startIndex - 1, search.maxRows],
  );
  return { total, contacts: rows.map(toContactView) };
}
