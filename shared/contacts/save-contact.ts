import type { Pool, QueryConfig, QueryResult } from 'pg';
import { withTransaction } from '../store/transaction';
import { channelTypes, normalizeChannels, type ChannelType, type NormalizedChannel } from './channels';
import type { ContactInput } from './contact-schema';
import { ContactBusy, ContactNotFound, ExternalIdTaken, isExternalIdViolation, isUniqueViolation } from './errors';
import { channelReplacementCtes, replaceChannels } from './write-channels';

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

/** Another request changed the matched contact after our statement's snapshot: try again. */
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

/**
 * The whole save is one statement (find, write, replace channels), atomic by itself. A
 * transaction is opened only to take a lock before it: always without an external ID (no
 * constraint can settle that race), and on a retry with one (so a busy contact is waited
 * for instead of retried until the attempts run out).
 */
async function saveContact(db: Pool, accountId: number, input: ContactInput, rules: SaveRules): Promise<SavedContact> {
  const channels = normalizeChannels(input.channels ?? []);
  const externalId = input.externalCustomerId ?? null;
  const matchable = channels
    .filter((channel) => rules.matchBy.includes(channel.type))
    .sort((a, b) => rules.matchBy.indexOf(a.type) - rules.matchBy.indexOf(b.type));
  const statement = saveStatement(accountId, input, channels, matchable, rules);
  const best = matchable[0];
  for (let attempt = 1; ; attempt += 1) {
    try {
      if (externalId === null && best) {
        return await withTransaction(db, async (client) => {
          await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`contact:${accountId}:${best.type}:${best.normalized}`]);
          return savedFrom(await client.query<SavedRow>(statement));
        });
      }
      if (externalId !== null && attempt > 1) {
        return await withTransaction(db, async (client) => {
          await client.query('SELECT FROM contacts WHERE account_id = $1 AND external_customer_id = $2 FOR UPDATE', [accountId, externalId]);
          return savedFrom(await client.query<SavedRow>(statement));
        });
      }
      return savedFrom(await db.query<SavedRow>(statement));
    } catch (error) {
      const retriable = error instanceof ContactMoved || isUniqueViolation(error);
      if (retriable && attempt < ATTEMPTS) continue;
      if (retriable) throw new ContactBusy();
      throw error;
    }
  }
}

interface SavedRow {
  readonly id: number;
  readonly inserted: boolean;
}

function savedFrom(result: QueryResult<SavedRow>): SavedContact {
  const row = result.rows[0];
  if (!row) throw new ContactMoved();
  return { id: row.id, created: row.inserted };
}

/**
 * One statement: `found` is the contact the rules match (by external ID, else by the most
 * trusted channel of a contact without another external ID); it is updated when found,
 * otherwise one is inserted. All parts share one snapshot, so the write goes ahead only on
 * the very row version `found` read (`xmin`), and an insert that meets a contact committed
 * since then does nothing: either way no row comes back and the save is retried on a newer
 * snapshot. That is what lets the channel DELETE trust the snapshot it reads.
 *
 * The statement is prepared, and its generic plan may have been made while the tables were
 * nearly empty; so every row is reached by a key the planner must look up by index (scalar
 * subqueries, and `OFFSET 0` keeping the per-channel contact lookup from being flattened
 * into a join), and each channel pair is looked up by its own parameters. The UPDATE
 * names the contact by primary key alone (both branches of `found` test the contact's
 * account, the channel one outside its `OFFSET 0` lookup, and the version it read pins the
 * row): with `account_id` beside the key, such a plan reached the row through the
 * change-tracking index (account_id, change_xid, id) and read the account's every contact
 * on each update.
 *
 * A found contact the request would not change is not written (`unchanged`): no new row
 * version, no `updated_at`, nothing for exports to pick up again. It takes the lock an
 * UPDATE would, so writers of one contact still go one at a time: a later one waits, and
 * finds a new version if the earlier one changed anything, channels included (their
 * trigger touches the contact, migration 603), and is retried on a newer snapshot.
 */
function saveStatement(
  accountId: number,
  input: ContactInput,
  channels: readonly NormalizedChannel[],
  matchable: readonly NormalizedChannel[],
  rules: SaveRules,
): QueryConfig {
  const columns = contactColumns(input);
  const values: unknown[] = [accountId, input.externalCustomerId ?? null, fieldsPatch(input), rules.groups ?? [], rules.source, rules.confirmedWhenCreated];
  const sets = [
    'fields = jsonb_strip_nulls(c.fields || $3::jsonb)',
    'groups = ARRAY(SELECT DISTINCT g FROM unnest(c.groups || $4::text[]) g)',
    // Restores a contact found by external ID; one found by channel is live already.
    'deleted_at = NULL',
    'updated_at = now()',
  ];
  // What makes the save a change: a contact sent again as it is stays as it is (no new
  // version, no updated_at, nothing for exports to pick up again).
  const changes = [
    'c.deleted_at IS NOT NULL',
    'NOT ($4::text[] <@ c.groups)',
    'jsonb_strip_nulls(c.fields || $3::jsonb) IS DISTINCT FROM c.fields',
  ];
  const inserted: string[] = [];
  for (const { column, value, type } of columns) {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
    changes.push(`c.${column} IS DISTINCT FROM $${values.length}::${type}`);
    inserted.push(`$${values.length}::${type}`);
  }
  const changed = changes.join(' OR ');
  const byChannel = matchable.length === 0 ? '' : channelMatch(matchable, rules.matchBy, values);
  const replaceChannels = channelReplacementCtes('written', '$1', channels, values);
  const shape = `${columns.map(({ column }) => column).join(',')}|${pairSlots(matchable.length)}|${channels.length > 0}`;
  const statement = preparedStatement(shape, () => `
    WITH found AS (
      SELECT id, via, version FROM (
        SELECT c.id, 'externalId' AS via, 0 AS rank, c.xmin AS version
          FROM contacts c WHERE c.account_id = $1 AND c.external_customer_id = $2${byChannel}
      ) matches ORDER BY rank, id LIMIT 1
    ),
    updated AS (
      UPDATE contacts c SET ${sets.join(', ')}
       WHERE c.id = (SELECT id FROM found) AND c.xmin = (SELECT version FROM found) AND (${changed})
      RETURNING c.id, false AS inserted
    ),
    unchanged AS (
      SELECT c.id, false AS inserted FROM contacts c
       WHERE c.id = (SELECT id FROM found) AND c.xmin = (SELECT version FROM found) AND NOT (${changed})
      FOR NO KEY UPDATE
    ),
    created AS (
      INSERT INTO contacts (account_id, fields, groups, source, confirmed${columns.map(({ column }) => `, ${column}`).join('')})
      SELECT $1, jsonb_strip_nulls($3::jsonb), ARRAY(SELECT DISTINCT g FROM unnest($4::text[]) g), $5::text, $6::boolean${inserted.map((value) => `, ${value}`).join('')}
       WHERE NOT EXISTS (SELECT FROM found)
      ON CONFLICT (account_id, external_customer_id) WHERE external_customer_id IS NOT NULL DO NOTHING
      RETURNING id, true AS inserted
    ),
    written AS (
      SELECT id, inserted FROM updated UNION ALL SELECT id, inserted FROM unchanged UNION ALL SELECT id, inserted FROM created
    )${replaceChannels}
    SELECT id, inserted FROM written`);
  return { ...statement, values };
}

/**
 * The `found` branch for a contact without another external ID holding one of the given
 * channels. Each (type, value) pair is a parameter of its own, so the generic plan knows it
 * looks up a handful of index keys: with arrays it would assume ten of each, price the
 * lookup at a hundred index scans, and PostgreSQL would plan every call afresh.
 */
function channelMatch(matchable: readonly NormalizedChannel[], matchBy: readonly ChannelType[], values: unknown[]): string {
  values.push(matchBy);
  const rank = `$${values.length}::text[]`;
  const pairs = Array.from({ length: pairSlots(matchable.length) }, (_, slot) => {
    const channel = matchable[Math.min(slot, matchable.length - 1)]!;
    values.push(channel.type, channel.normalized);
    return `($${values.length - 1}::text, $${values.length}::text)`;
  });
  return `
        UNION ALL
        SELECT c.id, 'channel', array_position(${rank}, ch.type), c.version
          FROM contact_channels ch
          CROSS JOIN LATERAL (
            SELECT id, account_id, xmin AS version FROM contacts
             WHERE id = ch.contact_id AND deleted_at IS NULL AND ($2::text IS NULL OR external_customer_id IS NULL)
            OFFSET 0
          ) c
         WHERE ch.account_id = $1 AND c.account_id = $1 AND (ch.type, ch.normalized) IN (${pairs.join(', ')})`;
}

/**
 * How many pairs the statement of a call holds: its channels, the last repeated up to one
 * of a few counts, so that a connection prepares a few shapes (each holds a plan of its own)
 * however many channels its calls match by. A repeated pair matches nothing more.
 */
function pairSlots(count: number): number {
  if (count === 0) return 0;
  return [1, 2, 4, 12].find((slots) => slots >= count) ?? count;
}

/**
 * Planning this statement costs more than running it, so each of its few shapes (which
 * columns, how many pairs to match by (`pairSlots`), whether any channels are written: all
 * its text depends on) is prepared once per connection, and its parameters are such that PostgreSQL prices
 * the generic plan as cheap as a custom one and keeps it (see `channelMatch`). The text of
 * a shape is built once: a call numbers its parameters as every call of its shape does, and
 * neither we nor `pg` hash or compare three kilobytes of SQL per call.
 */
const preparedStatements = new Map<string, { name: string; text: string }>();
function preparedStatement(shape: string, text: () => string): { name: string; text: string } {
  let statement = preparedStatements.get(shape);
  if (statement === undefined) {
    statement = { name: `save-contact-${preparedStatements.size + 1}`, text: text() };
    preparedStatements.set(shape, statement);
  }
  return statement;
}

/** Columns the request sets, in a fixed order; absent keys keep what the contact has. */
function contactColumns(input: ContactInput): { column: string; value: unknown; type: 'text' | 'jsonb' }[] {
  const columns: { column: string; value: unknown; type: 'text' | 'jsonb' }[] = [];
  if (input.externalCustomerId !== undefined) columns.push({ column: 'external_customer_id', value: input.externalCustomerId, type: 'text' });
  if (input.firstName !== undefined) columns.push({ column: 'first_name', value: input.firstName, type: 'text' });
  if (input.lastName !== undefined) columns.push({ column: 'last_name', value: input.lastName, type: 'text' });
  if (input.languageCode !== undefined) columns.push({ column: 'language_code', value: input.languageCode, type: 'text' });
  if (input.timeZone !== undefined) columns.push({ column: 'time_zone', value: input.timeZone, type: 'text' });
  if (input.address !== undefined) columns.push({ column: 'address', value: JSON.stringify(input.address), type: 'jsonb' });
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
  const deleted = await db.query('UPDATE contacts SET deleted_at = now(), updated_at = now() WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL', [
    accountId,
    id,
  ]);
  if (deleted.rowCount === 0) throw new ContactNotFound();
}
