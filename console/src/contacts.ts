import { callWithHeaders } from './api';

export interface Contact {
  readonly id: number;
  readonly externalCustomerId: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly channels: readonly { type: string; value: string }[];
}

export function contactLabel(contact: Contact): string {
  const name = [contact.firstName, contact.lastName].filter(Boolean).join(' ');
  const email = contact.channels.find((channel) => channel.type === 'email')?.value;
  return [name, email ?? contact.externalCustomerId ?? `contact ${contact.id}`].filter(Boolean).join(' · ');
}

export async function listContacts(maxRows = 100): Promise<{ contacts: Contact[]; total: number }> {
  const { body, headers } = await callWithHeaders<Contact[]>('GET', `/api/v1/contacts?maxrows=${maxRows}`);
  return { contacts: body, total: Number(headers.get('TotalCount') ?? body.length) };
}
