import type { ContactKey } from '../../shared/sources/contact-keys';

/** Contact keys looked up exactly as given, one contact each. */
export const exactKeys = (...values: string[]): ContactKey[] =>
  values.map((key, index) => ({ contactId: index + 1, email: null, key, lookupValues: [key] }));
