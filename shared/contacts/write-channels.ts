import type { PoolClient } from 'pg';
import type { NormalizedChannel } from './channels';

/** The same slot holding the same value: what a replacement keeps rather than rewrites. */
function sameChannel(given: string, stored: string): string {
  return ['type', 'position', 'value', 'normalized'].map((column) => `${stored}.${column} = ${given}.${column}`).join(' AND ');
}

export interface ContactChannels {
  readonly contactId: number;
  readonly channels: readonly NormalizedChannel[];
  /** A contact created in this transaction has nothing to replace. */
  readonly fresh: boolean;
}

/**
 * Replaces, per contact, the channels of each type given: a contact that sends a new email
 * keeps its push token; a channel given again unchanged stays as it is. Set-based: two
 * statements whatever the number of contacts.
 */
export async function replaceChannels(client: PoolClient, accountId: number, entries: readonly ContactChannels[]): Promise<void> {
  const given = givenColumns(entries);
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
        WHERE ch.account_id = $1 AND ch.contact_id = gone.contact_id AND ch.type = gone.type
          AND NOT EXISTS (
            SELECT FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::smallint[]) AS given(contact_id, type, value, normalized, position)
             WHERE given.contact_id = ch.contact_id AND ${sameChannel('given', 'ch')})`,
      [accountId, contactIds, types, ...given],
    );
  }
  if (given[0].length === 0) return;
  await client.query(
    `INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
     SELECT $1, given.* FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::smallint[]) AS given(contact_id, type, value, normalized, position)
      WHERE NOT EXISTS (SELECT FROM contact_channels ch WHERE ch.contact_id = given.contact_id AND ${sameChannel('given', 'ch')})`,
    [accountId, ...given],
  );
}

/** The channels given, column by column: contact ids, types, values, normalized values, positions. */
function givenColumns(entries: readonly ContactChannels[]): [number[], string[], string[], string[], number[]] {
  const columns: [number[], string[], string[], string[], number[]] = [[], [], [], [], []];
  for (const entry of entries) {
    for (const channel of entry.channels) {
      columns[0].push(entry.contactId);
      columns[1].push(channel.type);
      columns[2].push(channel.value);
      columns[3].push(channel.normalized);
      columns[4].push(channel.position);
    }
  }
  return columns;
}
