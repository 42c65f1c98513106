import type { Pool, PoolClient } from 'pg';
import type { ChannelType } from './channels';
import { ContactNotFound } from './errors';
import type { FieldValue } from './contact-schema';

/** A contact as the API returns it. */
export interface ContactView {
  readonly id: number;
  readonly externalCustomerId: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly channels: readonly { type: ChannelType; value: string }[];
  readonly fields: readonly { id: number; value: FieldValue }[];
  readonly languageCode: string | null;
  readonly timeZone: string | null;
  readonly address: Readonly<Record<string, string>> | null;
  readonly contactSource: string;
  readonly confirmed: boolean;
  readonly groups: readonly string[];
  readonly createdDate: string;
  readonly updatedDate: string;
}

export interface ContactRow {
  id: number;
  external_customer_id: string | null;
  first_name: string | null;
  last_name: string | null;
  language_code: string | null;
  time_zone: string | null;
  address: Record<string, string> | null;
  fields: Record<string, FieldValue>;
  source: string;
  confirmed: boolean;
  groups: string[];
  created_at: Date;
  updated_at: Date;
  channels: { type: ChannelType; value: string }[];
}

/** Columns of `contacts c` with the contact's channels, in a stable order. */
export const CONTACT_COLUMNS = `
  c.id, c.external_customer_id, c.first_name, c.last_name, c.language_code, c.time_zone, c.address,
  c.fields, c.source, c.confirmed, c.groups, c.created_at, c.updated_at,
  COALESCE((SELECT json_agg(json_build_object('type', ch.type, 'value', ch.value) ORDER BY ch.type, ch.position)
            FROM contact_channels ch WHERE ch.contact_id = c.id), '[]'::json) AS channels`;

export function toContactView(row: ContactRow): ContactView {
  return {
    id: row.id,
    externalCustomerId: row.external_customer_id,
    firstName: row.first_name,
    lastName: row.last_name,
    channels: row.channels,
    fields: Object.entries(row.fields)
      .map(([id, value]) => ({ id: Number(id), value }))
      .sort((a, b) => a.id - b.id),
    languageCode: row.language_code,
    timeZone: row.time_zone,
    address: row.address,
    contactSource: row.source,
    confirmed: row.confirmed,
    groups: row.groups,
    createdDate: row.created_at.toISOString(),
    updatedDate: row.updated_at.toISOString(),
  };
}

/** The account's live (not deleted) contacts among `ids`, in no particular order. */
export async function readContacts(db: Pool | PoolClient, accountId: number, ids: readonly number[]): Promise<ContactView[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<ContactRow>(
    `SELECT ${CONTACT_COLUMNS} FROM contacts c WHERE c.account_id = $1 AND c.id = ANY($2::bigint[]) AND c.deleted_at IS NULL`,
    [accountId, ids],
  );
  return rows.map(toContactView);
}

/** A live contact of the account as the API returns it; deleted and foreign contacts are not found. */
export async function getContact(db: Pool | PoolClient, accountId: number, id: number): Promise<ContactView> {
  const [contact] = await readContacts(db, accountId, [id]);
  if (!contact) throw new ContactNotFound();
  return contact;
}
