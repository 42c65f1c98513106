import type { PoolClient } from 'pg';
import type { NormalizedChannel } from './channels';

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
