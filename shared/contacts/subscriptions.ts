import type { Pool } from 'pg';
import * as z from 'zod';
import { ContactNotFound } from './errors';

/** A subscription category key (eSputnik's `subscriptions`, e.g. "news", "promo"). */
export const subscriptionKeySchema = z.string().trim().min(1).max(100);
export const MAX_SUBSCRIPTIONS_PER_CONTACT = 100;

/**
 * The categories a contact gets messages of. A contact whose categories were never set
 * gets all of them, as eSputnik's do; its list then reads as every category the account has.
 */
export async function getContactSubscriptions(db: Pool, accountId: number, contactId: number): Promise<string[]> {
  const { rows } = await db.query<{ subscriptions: string[] | null }>(
    'SELECT subscriptions FROM contacts WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL',
    [accountId, contactId],
  );
  const row = rows[0];
  if (!row) throw new ContactNotFound();
  return row.subscriptions ?? (await listSubscriptionCategories(db, accountId));
}

/**
 * Replaces the contact's categories. Keys the account has not seen yet become its categories
 * (Satellite has no screen to declare them first).
 */
export async function replaceContactSubscriptions(db: Pool, accountId: number, contactId: number, keys: readonly string[]): Promise<string[]> {
  const unique = [...new Set(keys)];
  const { rowCount } = await db.query(
    'UPDATE contacts SET subscriptions = $3::text[], updated_at = now() WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL',
    [accountId, contactId, unique],
  );
  if (!rowCount) throw new ContactNotFound();
  if (unique.length > 0) {
    await db.query('INSERT INTO subscription_categories (account_id, key) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [accountId, unique]);
  }
  return unique;
}

/** The account's subscription categories, by key. */
export async function listSubscriptionCategories(db: Pool, accountId: number): Promise<string[]> {
  const { rows } = await db.query<{ key: string }>('SELECT key FROM subscription_categories WHERE account_id = $1 ORDER BY key', [accountId]);
  return rows.map((row) => row.key);
}
