import type { PoolClient } from 'pg';
import type { NormalizedChannel } from './channels';

/**
 * The same replacement as `replaceChannels`, for one contact, as two data-modifying CTEs
 * to append to a statement that wrote the contact.
 * Both run on the statement's snapshot, so the DELETE never sees the rows the INSERT adds;
 * the statement must make sure nobody changed the contact since that snapshot.
 */
export function channelReplacementCtes(
  /** A CTE of at most one row `(id, inserted)`: the contact the statement wrote. */
  written: string,
  accountParam: string,
  channels: readonly NormalizedChannel[],
  values: unknown[],
): string {
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  if (channels.length === 0) return '';
  const types = param(channels.map((channel) => channel.type));
  const channelValues = param(channels.map((channel) => channel.value));
  const normalized = param(channels.map((channel) => channel.normalized));
  const positions = param(channels.map((channel) => channel.position));
  return `,
    removed_channels AS (
      DELETE FROM contact_channels ch
       WHERE ch.contact_id = (SELECT id FROM ${written} WHERE NOT inserted)
         AND ch.account_id = ${accountParam} AND ch.type = ANY (${types}::text[])
    ),
    added_channels AS (
      INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
      SELECT ${accountParam}, ${written}.id, given.*
        FROM ${written}, unnest(${types}::text[], ${channelValues}::text[], ${normalized}::text[], ${positions}::smallint[]) AS given
    )`;
}

export interface ContactChannels {
  readonly contactId: number;
  readonly channels: readonly NormalizedChannel[];
  /** A contact created in this transaction has nothing to replace. */
  readonly fresh: boolean;
}

/**
 * Replaces, per contact, the channels of each type given: a contact that sends a new email
 * keeps its push token. Set-based: two statements whatever the number of contacts.
 */
export async function replaceChannels(client: PoolClient, accountId: number, entries: readonly ContactChannels[]): Promise<void> {
  const replaced = entries.filter((entry) => !entry.fresh && entry.channels.length > 0);
  if (replaced.length > 0) {
    const contactIds: number[] = [];
    const types: string[] = [];
    for (const entry of replaced) {
      for (const type of new Set(entry.channels.map((channel) => channel.type))) {
        contactIds.push(entry.contactId);
        types.push(type);
      }
    }
    await client.query(
      `DELETE FROM contact_channels ch USING unnest($2::bigint[], $3::text[]) AS gone(contact_id, type)
        WHERE ch.account_id = $1 AND ch.contact_id = gone.contact_id AND ch.type = gone.type`,
      [accountId, contactIds, types],
    );
  }
  const contactIds: number[] = [];
  const types: string[] = [];
  const values: string[] = [];
  const normalized: string[] = [];
  const positions: number[] = [];
  for (const entry of entries) {
    for (const channel of entry.channels) {
      contactIds.push(entry.contactId);
      types.push(channel.type);
      values.push(channel.value);
      normalized.push(channel.normalized);
      positions.push(channel.position);
    }
  }
  if (contactIds.length === 0) return;
  await client.query(
    `INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
     SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::smallint[])`,
    [accountId, contactIds, types, values, normalized, positions],
  );
}
