import { normalizeEmail, normalizePhone } from '../contacts/channels';
import type { ContactKeyField } from '../connectors/settings';

export interface ContactKey {
  readonly contactId: number;
  readonly email: string | null;
  /** The contact's value of the connector's unique-key field, in its matching form (`normalizeKey`). */
  readonly key: string | null;
  /**
   * The spellings an external table may hold that key in, looked up exactly so an index on
   * the table's column serves the lookup: an email as the contact has it and lower-cased, a
   * phone as digits and as +digits.
   */
  readonly lookupValues: readonly string[];
}

/** The form an external table's key value is matched in against a contact's (see `keysOfContacts`). */
export function normalizeKey(field: ContactKeyField, value: string): string {
  if (field === 'email') return normalizeEmail(value) ?? value.trim().toLowerCase();
  if (field === 'sms') return normalizePhone(value) ?? value;
  return value;
}
