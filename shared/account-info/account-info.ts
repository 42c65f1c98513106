import type { Pool } from 'pg';
import { MAX_CONTACTS_PER_IMPORT, MAX_UPLOAD_ROWS } from '../contacts/bulk-import';
import { NotFound } from '../errors';
import { MAX_PAST_EVENTS_PER_CALL } from '../events/past-events';
import { MAX_SMARTSEND_RECIPIENTS } from '../messages/smartsend';
import type { Platform } from '../platform';
import type { Principal } from '../accounts/authenticate';

export interface AccountInfo {
  /** eSputnik's: the caller; Satellite names the key's or app's kind and id (it has no user logins behind API keys). */
  readonly userName: string;
  readonly organisationName: string;
  readonly accountId: number;
  readonly contacts: { readonly total: number; readonly deleted: number };
  readonly limits: Readonly<Record<string, number>>;
}

/** account/info: eSputnik's `userName` and `organisationName`, with the account's id, contact counts and API limits. */
export async function accountInfo(platform: Platform, principal: Principal): Promise<AccountInfo> {
  const { rows } = await platform.db.query<{ name: string; total: number; deleted: number }>(
    `SELECT a.name,
            (SELECT count(*)::int FROM contacts c WHERE c.account_id = a.id AND c.deleted_at IS NULL) AS total,
            (SELECT count(*)::int FROM contacts c WHERE c.account_id = a.id AND c.deleted_at IS NOT NULL) AS deleted
       FROM accounts a WHERE a.id = $1`,
    [principal.accountId],
  );
  const row = rows[0];
  if (!row) throw new NotFound('account', 'ACCOUNT_NOT_FOUND');
  return {
    userName: principal.via === 'oauth' ? `oauth-app:${principal.appId ?? ''}` : 'api-key',
    organisationName: row.name,
    accountId: principal.accountId,
    contacts: { total: row.total, deleted: row.deleted },
    limits: {
      requestsPerSecond: platform.config.rateLimitPerSecond,
      contactsPerBulkImport: MAX_CONTACTS_PER_IMPORT,
      rowsPerUploadedFile: MAX_UPLOAD_ROWS,
      recipientsPerSmartsend: MAX_SMARTSEND_RECIPIENTS,
      eventsPerPastEventsCall: MAX_PAST_EVENTS_PER_CALL,
      emailsPerSecond: platform.config.email.sendRatePerSecond,
    },
  };
}

/**
 * balance: Satellite keeps no billing, so it has no balance to report. The fields are
 * eSputnik's, each null, and `billing: "none"` says why, rather than a 0 a client would read
 * as "out of credit" and stop sending.
 */
export function balance(): Record<string, unknown> {
  return { currentBalance: null, currency: null, creditLimit: null, bonusEmails: null, bonusSmses: null, billing: 'none' };
}

/**
 * addressbooks: eSputnik's catalogue of the contact fields an organisation defines. Satellite
 * has no field catalogue (additional fields are ids a client picks); its one address book
 * lists the field ids the account's contacts carry.
 */
export async function addressBooks(db: Pool, accountId: number, name: string): Promise<{ addressBook: unknown[] }> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT DISTINCT k AS id FROM contacts c CROSS JOIN LATERAL jsonb_object_keys(c.fields) AS k
      WHERE c.account_id = $1 AND c.fields <> '{}'::jsonb ORDER BY 1`,
    [accountId],
  );
  const fields = rows
    .map((row) => Number(row.id))
    .sort((a, b) => a - b)
    .map((id) => ({ id, name: String(id) }));
  return { addressBook: [{ addressBookId: accountId, name, fieldGroups: [{ name: 'Additional fields', fields }] }] };
}
