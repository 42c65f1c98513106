import type { Pool, PoolClient } from 'pg';
import { normalizeChannelValue, normalizeEmail, normalizePhone, type ChannelType } from './channels';
import { readContacts, type ContactView } from './read-contact';

export interface Recipient {
  readonly contactId?: number;
  readonly externalCustomerId?: string;
  /** An email address or a phone number. */
  readonly locator?: string;
  /** An address of a known channel type (an activity names the channel it went through), after the locator. */
  readonly channel?: { readonly type: ChannelType; readonly value: string };
}

export interface RecipientContact extends ContactView {
  /** The contact's first email and phone, what a message is sent to. */
  readonly email: string | null;
  readonly sms: string | null;
}

export interface RecipientError {
  readonly code: 'CONTACT_NOT_FOUND' | 'INVALID_LOCATOR' | 'RECIPIENT_REQUIRED';
  readonly message: string;
}

export interface ResolvedRecipient {
  readonly index: number;
  readonly contact?: RecipientContact;
  readonly error?: RecipientError;
}

type Key =
  | { kind: 'id'; id: number }
  | { kind: 'externalId'; value: string }
  | { kind: 'channel'; type: ChannelType; value: string; named: 'locator' | ChannelType };
type Lookup = { readonly key: Key } | { readonly error: RecipientError };

/**
 * Finds each recipient's live contact by the first identifier it carries, in the priority
 * of seed 002: contactId > externalCustomerId > locator (email or phone), then a channel
 * address of a given type. A recipient that
 * names no contact of this account is reported on its own row; the batch never fails for it.
 * Three queries whatever the batch size.
 */
export async function resolveRecipients(db: Pool | PoolClient, accountId: number, recipients: readonly Recipient[]): Promise<ResolvedRecipient[]> {
  const lookups = recipients.map(lookupOf);
  const keys = lookups.flatMap((lookup) => ('key' in lookup ? [lookup.key] : []));
  const externalIds = keys.flatMap((key) => (key.kind === 'externalId' ? [key.value] : []));
  const locatorTypes: string[] = [];
  const locatorValues: string[] = [];
  for (const key of keys) {
    if (key.kind === 'channel') {
      locatorTypes.push(key.type);
      locatorValues.push(key.value);
    }
  }
  const byExternalId = new Map<string, number>();
  if (externalIds.length > 0) {
    const { rows } = await db.query<{ id: number; external_customer_id: string }>(
      `SELECT id, external_customer_id FROM contacts WHERE account_id = $1 AND external_customer_id = ANY($2::text[]) AND deleted_at IS NULL`,
      [accountId, externalIds],
    );
    for (const row of rows) byExternalId.set(row.external_customer_id, row.id);
  }
  const byLocator = new Map<string, number>();
  if (locatorTypes.length > 0) {
    // The oldest live contact holding the address wins when several do.
    const { rows } = await db.query<{ type: string; normalized: string; contact_id: number }>(
      `SELECT DISTINCT ON (ch.type, ch.normalized) ch.type, ch.normalized, ch.contact_id
         FROM contact_channels ch JOIN contacts c ON c.id = ch.contact_id AND c.deleted_at IS NULL
        WHERE ch.account_id = $1 AND (ch.type, ch.normalized) IN (SELECT * FROM unnest($2::text[], $3::text[]))
        ORDER BY ch.type, ch.normalized, ch.contact_id`,
      [accountId, locatorTypes, locatorValues],
    );
    for (const row of rows) byLocator.set(`${row.type}:${row.normalized}`, row.contact_id);
  }
  const contactIdOf = (key: Key): number | undefined => {
    switch (key.kind) {
      case 'id':
        return key.id;
      case 'externalId':
        return byExternalId.get(key.value);
      case 'channel':
        return byLocator.get(`${key.type}:${key.value}`);
    }
  };
  const ids = [...new Set(keys.map(contactIdOf).filter((id): id is number => id !== undefined))];
  const contacts = new Map((await readContacts(db, accountId, ids)).map((contact) => [contact.id, contact]));

  return lookups.map((lookup, index) => {
    if ('error' in lookup) return { index, error: lookup.error };
    const key = lookup.key;
    const id = contactIdOf(key);
    const contact = id === undefined ? undefined : contacts.get(id);
    if (!contact) return { index, error: { code: 'CONTACT_NOT_FOUND', message: `no contact with this ${describe(key)}` } };
    return {
      index,
      contact: {
        ...contact,
        email: contact.channels.find((channel) => channel.type === 'email')?.value ?? null,
        sms: contact.channels.find((channel) => channel.type === 'sms')?.value ?? null,
      },
    };
  });
}

function lookupOf(recipient: Recipient): Lookup {
  if (recipient.contactId !== undefined) return { key: { kind: 'id', id: recipient.contactId } };
  if (recipient.externalCustomerId !== undefined) return { key: { kind: 'externalId', value: recipient.externalCustomerId } };
  if (recipient.locator !== undefined) {
    if (recipient.locator.includes('@')) {
      const email = normalizeEmail(recipient.locator);
      return email
        ? { key: { kind: 'channel', type: 'email', value: email, named: 'locator' } }
        : { error: { code: 'INVALID_LOCATOR', message: 'the locator is not a valid email address' } };
    }
    const phone = normalizePhone(recipient.locator);
    return phone
      ? { key: { kind: 'channel', type: 'sms', value: phone, named: 'locator' } }
      : { error: { code: 'INVALID_LOCATOR', message: 'the locator is neither an email address nor a phone number' } };
  }
  if (recipient.channel !== undefined) {
    const { type } = recipient.channel;
    const value = normalizeChannelValue(type, recipient.channel.value);
    return value !== undefined
      ? { key: { kind: 'channel', type, value, named: type } }
      : { error: { code: 'INVALID_LOCATOR', message: `not a valid ${type} address` } };
  }
  return { error: { code: 'RECIPIENT_REQUIRED', message: 'give contactId, externalCustomerId or locator' } };
}

function describe(key: Key): string {
  switch (key.kind) {
    case 'id':
      return 'contactId';
    case 'externalId':
      return 'externalCustomerId';
    case 'channel':
      return key.named;
  }
}
