import type { Pool, QueryConfig } from 'pg';
import { withTransaction } from '../store/transaction';
import { channelTypes, normalizeChannels, type ChannelType } from './channels';
import type { ContactInput } from './contact-schema';
import { ContactBusy, ContactNotFound, ExternalIdTaken, isDeadlock, isExternalIdViolation, isUniqueViolation, otherExternalIdOf } from './errors';
import { replaceChannels } from './write-channels';

/** Seed 000's `contactSource` values. */
export type ContactSource = 'SITE_AUTOMATED' | 'I_MESSAGE' | 'CAMPAIGN' | 'IMPORT' | 'MANUAL' | 'SUBSCRIPTION' | 'API' | 'ORDER';

export interface SavedContact {
  readonly id: number;
}

interface SaveRules {
  /** Channel types that identify an existing contact, most trusted first. */
  readonly matchBy: readonly ChannelType[];
  readonly source: ContactSource;
  readonly confirmedWhenCreated: boolean;
  readonly groups?: readonly string[];
}

const ATTEMPTS = 3;

/**
 * Add/update a contact (seed 002): found by externalCustomerId → updated (restored when
 * deleted); otherwise found by a channel → updated and given the external ID; otherwise
 * created. A contact found by channel that already has another external ID is neither taken
 * over nor duplicated: `ContactHasOtherExternalId` (409). The unique index on the external
 * ID settles races: the loser of two inserts updates.
 */
export function addOrUpdateContact(db: Pool, accountId: number, input: ContactInput, source: ContactSource = 'API'): Promise<SavedContact> {
  return saveContact(db, accountId, input, { matchBy: channelTypes, source, confirmedWhenCreated: true });
}

/** Subscribe: lookup externalCustomerId > email > phone (a different external ID found by channel: 409); new contacts start unconfirmed. */
export function subscribeContact(db: Pool, accountId: number, input: ContactInput, groups: readonly string[]): Promise<SavedContact> {
  return saveContact(db, accountId, input, { matchBy: ['email', 'sms'], source: 'SUBSCRIPTION', confirmedWhenCreated: false, groups });
}

/**
 * The whole save is one call of the database function `save_contact_id` (migrations 306,
 * 611): one round trip, in which the database runs only the statements the case needs, each
 * planned once per connection. A call that another writer beat to the contact's external ID
 * (a channel-matched contact given an ID someone else just created), or that PostgreSQL
 * chose to break a lock cycle with, wrote nothing and is made again.
 */
const SAVE_CONTACT: Pick<QueryConfig, 'name' | 'text'> = {
  name: 'save-contact',
  text: `SELECT save_contact_id(
    $1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::jsonb, $9::text[], $10::text, $11::boolean,
    $12::text[], $13::text[], $14::int[], $15::text[], $16::text[], $17::text[], $18::smallint[]) AS id`,
};

async function saveContact(db: Pool, accountId: number, input: ContactInput, rules: SaveRules): Promise<SavedContact> {
  const channels = normalizeChannels(input.channels ?? []);
  // The lists save_contact takes, each built in one pass (this runs on every add/update call).
  const matchTypes: ChannelType[] = [];
  const matchValues: string[] = [];
  const matchRanks: number[] = [];
  // Most trusted first, a type's channels in the order given: what a stable sort by rank gives.
  for (let rank = 0; rank < rules.matchBy.length; rank += 1) {
    for (const channel of channels) {
      if (channel.type !== rules.matchBy[rank]) continue;
      matchTypes.push(channel.type);
      matchValues.push(channel.normalized);
      matchRanks.push(rank);
    }
  }
  const channelTypesGiven: ChannelType[] = [];
  const channelValues: string[] = [];
  const channelNormalized: string[] = [];
  const channelPositions: number[] = [];
  for (const channel of channels) {
    channelTypesGiven.push(channel.type);
    channelValues.push(channel.value);
    channelNormalized.push(channel.normalized);
    channelPositions.push(channel.position);
  }
  const values = [
    accountId,
    input.externalCustomerId ?? null,
    input.firstName ?? null,
    input.lastName ?? null,
    input.languageCode ?? null,
    input.timeZone ?? null,
    input.address === undefined ? null : JSON.stringify(input.address),
    fieldsPatch(input),
    rules.groups ?? [],
    rules.source,
    rules.confirmedWhenCreated,
    matchTypes,
    matchValues,
    matchRanks,
    channelTypesGiven,
    channelValues,
    channelNormalized,
    channelPositions,
  ];
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { rows } = await db.query<{ id: number | null }>({ ...SAVE_CONTACT, values });
      const id = rows[0]?.id;
      if (id == null) throw new ContactBusy();
      return { id };
    } catch (error) {
      const conflict = otherExternalIdOf(error);
      if (conflict) throw conflict;
      if (!isUniqueViolation(error) && !isDeadlock(error)) throw error;
      if (attempt >= ATTEMPTS) throw new ContactBusy();
    }
  }
}

/** Columns the request sets, in a fixed order; absent keys keep what the contact has. */
function contactColumns(input: ContactInput): { column: string; value: unknown }[] {
  const columns: { column: string; value: unknown }[] = [];
  if (input.externalCustomerId !== undefined) columns.push({ column: 'external_customer_id', value: input.externalCustomerId });
  if (input.firstName !== undefined) columns.push({ column: 'first_name', value: input.firstName });
  if (input.lastName !== undefined) columns.push({ column: 'last_name', value: input.lastName });
  if (input.languageCode !== undefined) columns.push({ column: 'language_code', value: input.languageCode });
  if (input.timeZone !== undefined) columns.push({ column: 'time_zone', value: input.timeZone });
  if (input.address !== undefined) columns.push({ column: 'address', value: JSON.stringify(input.address) });
  return columns;
}

/** `{"<fieldId>": value}`; a null value removes the field. */
function fieldsPatch(input: ContactInput): string {
  if (!input.fields?.length) return '{}';
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
      for (const { column, value } of contactColumns(input)) {
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
  const deleted = await db.query(
    'UPDATE contacts SET deleted_at = now(), updated_at = now() WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL',
    [accountId, id],
  );
  if (deleted.rowCount === 0) throw new ContactNotFound();
}
