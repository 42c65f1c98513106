import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../store/transaction';
import { channelTypes, normalizeChannels, type ChannelType, type NormalizedChannel } from './channels';
import type { ContactInput } from './contact-schema';
import { ContactBusy, ContactNotFound, ExternalIdTaken, isExternalIdViolation, isUniqueViolation } from './errors';
import { replaceChannels } from './write-channels';

/** Seed 000's `contactSource` values. */
export type ContactSource = 'SITE_AUTOMATED' | 'I_MESSAGE' | 'CAMPAIGN' | 'IMPORT' | 'MANUAL' | 'SUBSCRIPTION' | 'API' | 'ORDER';

export interface SavedContact {
  readonly id: number;
  readonly created: boolean;
}

interface SaveRules {
  /** Channel types that identify an existing contact, most trusted first. */
  readonly matchBy: readonly ChannelType[];
  readonly source: ContactSource;
  readonly confirmedWhenCreated: boolean;
  readonly groups?: readonly string[];
}

/** Another request changed the matched contact between our read and our write: try again. */
class ContactMoved extends Error {}

const ATTEMPTS = 3;

/**
 * Add/update a contact (seed 002): found by externalCustomerId → updated (restored when
 * deleted); otherwise found by a channel → updated and given the external ID; otherwise
 * created. A contact that already has another external ID is never taken over by channel.
 * The unique index on the external ID settles races: the loser of two inserts updates.
 */
export function addOrUpdateContact(db: Pool, accountId: number, input: ContactInput, source: ContactSource = 'API'): Promise<SavedContact> {
  return saveContact(db, accountId, input, { matchBy: channelTypes, source, confirmedWhenCreated: true });
}

/** Subscribe: lookup externalCustomerId > email > phone; new contacts start unconfirmed. */
export function subscribeContact(db: Pool, accountId: number, input: ContactInput, groups: readonly string[]): Promise<SavedContact> {
  return saveContact(db, accountId, input, { matchBy: ['email', 'sms'], source: 'SUBSCRIPTION', confirmedWhenCreated: false, groups });
}

async function saveContact(db: Pool, accountId: number, input: ContactInput, rules: SaveRules): Promise<SavedContact> {
  const channels = normalizeChannels(input.channels ?? []);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await withTransaction(db, (client) => saveOnce(client, accountId, input, channels, rules));
    } catch (error) {
      const retriable = error instanceof ContactMoved || isUniqueViolation(error);
      if (retriable && attempt < ATTEMPTS) continue;
      if (retriable) throw new ContactBusy();
      throw error;
    }
  }
}

async function saveOnce(
  client: PoolClient,
  accountId: number,
  input: ContactInput,
  channels: readonly NormalizedChannel[],
  rules: SaveRules,
): Promise<SavedContact> {
  const externalId = input.externalCustomerId ?? null;
  const matchable = channels
    .filter((channel) => rules.matchBy.includes(channel.type))
    .sort((a, b) => rules.matchBy.indexOf(a.type) - rules.matchBy.indexOf(b.type));

  if (externalId === null && matchable[0]) {
    // Without an external ID no constraint can settle a race; serialise on the best channel.
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `contact:${accountId}:${matchable[0].type}:${matchable[0].normalized}`,
    ]);
  }

  const found = await findContact(client, accountId, externalId, matchable, rules.matchBy);
  const columns = contactColumns(input);
  const fields = fieldsPatch(input);
  const groups = rules.groups ?? [];

  if (found) {
    const values: unknown[] = [accountId, found.id, fields, groups];
    const sets = [
      'fields = jsonb_strip_nulls(fields || $3::jsonb)',
      'groups = ARRAY(SELECT DISTINCT g FROM unnest(groups || $4::text[]) g)',
      'updated_at = now()',
      ...(found.via === 'externalId' ? ['deleted_at = NULL'] : []),
    ];
    for (const [column, value] of columns) {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    }
    // Matched by channel: the external ID may be given only to a contact that has none yet.
    const guard = found.via === 'channel' && externalId !== null ? ' AND external_customer_id IS NULL' : '';
    const updated = await client.query(`UPDATE contacts SET ${sets.join(', ')} WHERE account_id = $1 AND id = $2${guard} RETURNING id`, values);
    if (updated.rowCount === 0) throw new ContactMoved();
    await replaceChannels(client, accountId, [{ contactId: found.id, channels, fresh: false }]);
    return { id: found.id, created: false };
  }

  const names = ['account_id', 'source', 'confirmed', 'fields', 'groups', ...columns.map(([column]) => column)];
  const values: unknown[] = [accountId, rules.source, rules.confirmedWhenCreated, fields, groups, ...columns.map(([, value]) => value)];
  const placeholders = names.map((name, index) => {
    if (name === 'fields') return `jsonb_strip_nulls($${index + 1}::jsonb)`;
    if (name === 'groups') return `ARRAY(SELECT DISTINCT g FROM unnest($${index + 1}::text[]) g)`;
    return `$${index + 1}`;
  });
  const onConflict =
    externalId === null
      ? ''
      : `ON CONFLICT (account_id, external_customer_id) WHERE external_customer_id IS NOT NULL DO UPDATE SET
           ${columns.map(([column]) => `${column} = EXCLUDED.${column}`).join(', ')},
           fields = jsonb_strip_nulls(contacts.fields || $4::jsonb),
           groups = ARRAY(SELECT DISTINCT g FROM unnest(contacts.groups || $5::text[]) g),
           deleted_at = NULL, updated_at = now()`;
  const inserted = await client.query<{ id: number; inserted: boolean }>(
    `INSERT INTO contacts (${names.join(', ')}) VALUES (${placeholders.join(', ')}) ${onConflict} RETURNING id, (xmax = 0) AS inserted`,
    values,
  );
  const row = inserted.rows[0];
  if (!row) throw new ContactMoved();
  await replaceChannels(client, accountId, [{ contactId: row.id, channels, fresh: row.inserted }]);
  return { id: row.id, created: row.inserted };
}

interface FoundContact {
  readonly id: number;
  readonly via: 'externalId' | 'channel';
}

async function findContact(
  client: PoolClient,
  accountId: number,
  externalId: string | null,
  matchable: readonly NormalizedChannel[],
  matchBy: readonly ChannelType[],
): Promise<FoundContact | undefined> {
  if (externalId === null && matchable.length === 0) return undefined;
  const { rows } = await client.query<{ id: number; via: FoundContact['via'] }>(
    `SELECT id, via FROM (
       SELECT c.id, 'externalId' AS via, 0 AS rank
         FROM contacts c WHERE c.account_id = $1 AND c.external_customer_id = $2
       UNION ALL
       SELECT c.id, 'channel', array_position($5::text[], ch.type)
         FROM contact_channels ch JOIN contacts c ON c.id = ch.contact_id
        WHERE ch.account_id = $1
          AND (ch.type, ch.normalized) IN (SELECT * FROM unnest($3::text[], $4::text[]))
          AND c.deleted_at IS NULL
          AND ($2::text IS NULL OR c.external_customer_id IS NULL)
     ) found ORDER BY rank, id LIMIT 1`,
    [accountId, externalId, matchable.map((channel) => channel.type), matchable.map((channel) => channel.normalized), matchBy],
  );
  return rows[0];
}

/** Columns the request sets, in a fixed order; absent keys keep what the contact has. */
function contactColumns(input: ContactInput): [string, unknown][] {
  const columns: [string, unknown][] = [];
  if (input.externalCustomerId !== undefined) columns.push(['external_customer_id', input.externalCustomerId]);
  if (input.firstName !== undefined) columns.push(['first_name', input.firstName]);
  if (input.lastName !== undefined) columns.push(['last_name', input.lastName]);
  if (input.languageCode !== undefined) columns.push(['language_code', input.languageCode]);
  if (input.timeZone !== undefined) columns.push(['time_zone', input.timeZone]);
  if (input.address !== undefined) columns.push(['address', JSON.stringify(input.address)]);
  return columns;
}

/** `{"<fieldId>": value}`; a null value removes the field. */
function fieldsPatch(input: ContactInput): string {
  return JSON.stringify(Object.fromEntries((input.fields ?? []).map((field) => [String(field.id), field.value])));
}

/**
 * Update contact (PUT): only an existing, live contact; an external ID that belongs to
 * another contact is refused and nothing is changed.
 */
export async function updateContact(db: Pool, accountId: number, id: number, input: ContactInput): Promise<void> {
  const channels = normalizeChannels(input.channels ?? []);
  try {
    await withTransaction(db, async (client) => {
      const values: unknown[] = [accountId, id, fieldsPatch(input)];
      const sets = ['fields = jsonb_strip_nulls(fields || $3::jsonb)', 'updated_at = now()'];
      for (const [column, value] of contactColumns(input)) {
        values.push(value);
        sets.push(`${column} = $${values.length}`);
      }
      const updated = await client.query(
        `UPDATE contacts SET ${sets.join(', ')} WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id`,
        values,
      );
      if (updated.rowCount === 0) throw new ContactNotFound();
      await replaceChannels(client, accountId, [{ contactId: id, channels, fresh: false }]);
    });
  } catch (error) {
    if (isExternalIdViolation(error)) throw new ExternalIdTaken();
    throw error;
  }
}

/** Soft delete: the row stays (with its external ID) so a later add/update restores it. */
export async function deleteContact(db: Pool, accountId: number, id: number): Promise<void> {
  const deleted = await db.query('UPDATE contacts SET deleted_at = now(), updated_at = now() WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL', [
    accountId,
    id,
  ]);
  if (deleted.rowCount === 0) throw new ContactNotFound();
}
