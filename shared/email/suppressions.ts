import type { Pool, PoolClient } from 'pg';
import { NotFound } from '../errors';

/**
 * Why an address gets no more email from an account: it unsubscribed, hard-bounced, or its
 * owner reported a message as spam. Reversible: deleting the suppression (through the API)
 * lets email reach it again. The contacts using the address show it as their `emailStatus`
 * (exports' contacts dataset) until then.
 */
export type SuppressionReason = 'UNSUBSCRIBED' | 'HARD_BOUNCE' | 'SPAM';

export interface Suppression {
  readonly address: string;
  readonly reason: SuppressionReason;
  readonly sendId: number | null;
  readonly detail: string | null;
  readonly createdDate: Date;
}

/** What a send to a suppressed address answers, per recipient. */
export const suppressedReasonMessage: Readonly<Record<SuppressionReason, string>> = {
  UNSUBSCRIBED: 'the address unsubscribed from this account’s email',
  HARD_BOUNCE: 'the address hard-bounced: its mail server said it does not exist',
  SPAM: 'the address’s owner reported this account’s email as spam',
};

export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** Suppresses an address; the first reason stays (an unsubscribed address that later complains stays UNSUBSCRIBED). */
export async function suppressAddress(
  db: Pool | PoolClient,
  accountId: number,
  address: string,
  reason: SuppressionReason,
  origin: { sendId?: number; detail?: string } = {},
): Promise<void> {
  await suppressAddresses(db, accountId, [address], reason, origin);
}

/** Suppresses these addresses in one statement, each as `suppressAddress` does; answers them normalized, once each. */
async function suppressAddresses(
  db: Pool | PoolClient,
  accountId: number,
  addresses: readonly string[],
  reason: SuppressionReason,
  origin: { sendId?: number; detail?: string } = {},
): Promise<string[]> {
  const normalized = [...new Set(addresses.map(normalizeAddress))];
  const { rows } = await db.query<{ address: string }>(
    `INSERT INTO email_suppressions (account_id, address, reason, send_id, detail)
       SELECT $1, address, $3, $4, $5 FROM unnest($2::text[]) AS address
     ON CONFLICT DO NOTHING RETURNING address`,
    [accountId, normalized, reason, origin.sendId ?? null, origin.detail?.slice(0, 1000) ?? null],
  );
  await markContacts(
    db,
    accountId,
    rows.map((row) => row.address),
    reason,
  );
  return normalized;
}

/** The suppressed addresses among these, with their reasons. */
export async function suppressedAmong(
  db: Pool | PoolClient,
  accountId: number,
  addresses: readonly string[],
): Promise<Map<string, SuppressionReason>> {
  if (addresses.length === 0) return new Map();
  const { rows } = await db.query<{ address: string; reason: SuppressionReason }>(
    'SELECT address, reason FROM email_suppressions WHERE account_id = $1 AND address = ANY($2::text[])',
    [accountId, [...new Set(addresses.map(normalizeAddress))]],
  );
  return new Map(rows.map((row) => [row.address, row.reason]));
}

export async function listSuppressions(
  db: Pool,
  accountId: number,
  page: { startIndex: number; maxRows: number; address?: string },
): Promise<{ suppressions: Suppression[]; total: number }> {
  const filter = page.address !== undefined ? normalizeAddress(page.address) : null;
  const [list, counted] = await Promise.all([
    db.query<{ address: string; reason: SuppressionReason; send_id: number | null; detail: string | null; created_at: Date }>(
      `SELECT address, reason, send_id, detail, created_at FROM email_suppressions
        WHERE account_id = $1 AND ($2::text IS NULL OR address = $2) ORDER BY created_at DESC, address OFFSET $3 LIMIT $4`,
      [accountId, filter, page.startIndex - 1, page.maxRows],
    ),
    db.query<{ n: number }>('SELECT count(*)::int AS n FROM email_suppressions WHERE account_id = $1 AND ($2::text IS NULL OR address = $2)', [
      accountId,
      filter,
    ]),
  ]);
  return {
    suppressions: list.rows.map((row) => ({
      address: row.address,
      reason: row.reason,
      sendId: row.send_id,
      detail: row.detail,
      createdDate: row.created_at,
    })),
    total: counted.rows[0]?.n ?? 0,
  };
}

export class SuppressionNotFound extends NotFound {
  constructor() {
    super('suppression', 'SUPPRESSION_NOT_FOUND');
  }
}

/** Lifts a suppression: later sends reach the address again. */
export async function deleteSuppression(db: Pool, accountId: number, address: string): Promise<void> {
  const normalized = normalizeAddress(address);
  const { rowCount } = await db.query('DELETE FROM email_suppressions WHERE account_id = $1 AND address = $2', [accountId, normalized]);
  if (!rowCount) throw new SuppressionNotFound();
  await markContacts(db, accountId, [normalized], null);
}

/** `emailStatus` of the contacts with these (normalized) addresses; `updated_at` moves so exports pick them up. */
async function markContacts(
  db: Pool | PoolClient,
  accountId: number,
  normalized: readonly string[],
  reason: SuppressionReason | null,
): Promise<void> {
  if (normalized.length === 0) return;
  await db.query(
    `UPDATE contacts c SET email_status = $3, updated_at = now()
       FROM contact_channels ch
      WHERE ch.account_id = $1 AND ch.type = 'email' AND ch.normalized = ANY($2::text[]) AND c.id = ch.contact_id`,
    [accountId, normalized, reason],
  );
}

/**
 * Adds addresses to the unsubscribed list by hand (eSputnik's "add emails to unsubscribed
 * list"): the same list every email send checks. Answers the addresses as stored.
 */
export function unsubscribeAddresses(db: Pool, accountId: number, addresses: readonly string[]): Promise<string[]> {
  return suppressAddresses(db, accountId, addresses, 'UNSUBSCRIBED', { detail: 'added through emails/unsubscribed/add' });
}

/**
 * Lifts the UNSUBSCRIBED suppressions of these addresses (eSputnik's "remove emails from
 * unsubscribed list"); hard bounces and complaints stay. Answers the addresses lifted.
 */
export async function liftUnsubscribes(db: Pool, accountId: number, addresses: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ address: string }>(
    `DELETE FROM email_suppressions WHERE account_id = $1 AND address = ANY($2::text[]) AND reason = 'UNSUBSCRIBED' RETURNING address`,
    [accountId, [...new Set(addresses.map(normalizeAddress))]],
  );
  const lifted = rows.map((row) => row.address);
  await markContacts(db, accountId, lifted, null);
  return lifted;
}
