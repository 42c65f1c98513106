/**
 * Seed 004's API method groups and the rights that open them. Every route names its group;
 * an API key or an OAuth grant carries rights; a request passes when one of its rights
 * opens the route's group.
 */
export const methodGroups = [
  'general', // version, account info: any authenticated caller
  'contactsWrite', // add/update/delete contacts, subscribe, groups changes
  'contactsRead', // search and read contacts, groups
  'activity', // contacts activity
  'events', // generate event
  'messages', // send messages, broadcasts
  'settings', // connectors, sources, exports, webhooks: account administration
  'credentials', // API keys, OAuth apps and connected apps: the account's own keys only (see closedToApps)
] as const;
export type MethodGroup = (typeof methodGroups)[number];

/** Seed 004's four rights plus a write-only variant of events and contacts; each is an API key right and an OAuth scope. */
export const rights = ['fullApi', 'events', 'eventsAndContacts', 'eventsAndContactsWrite', 'messages'] as const;
export type Right = (typeof rights)[number];

const groupsOpenedBy: Readonly<Record<Right, readonly MethodGroup[]>> = {
  fullApi: methodGroups,
  events: ['general', 'events'],
  eventsAndContacts: ['general', 'events', 'contactsWrite', 'contactsRead', 'activity'],
  eventsAndContactsWrite: ['general', 'events', 'contactsWrite'],
  messages: ['general', 'messages'],
};

/**
 * Groups a partner app acting through OAuth never opens, whatever its scope: credentials it
 * minted (an API key) or apps it managed would outlive its own grant, which the account
 * owner revokes by disconnecting it (seed 004: afterwards every key and token of the
 * integration is invalid).
 */
const closedToApps: readonly MethodGroup[] = ['credentials'];

export function rightsOpen(granted: readonly Right[], group: MethodGroup): boolean {
  return granted.some((right) => groupsOpenedBy[right].includes(group));
}

export function openToApps(group: MethodGroup): boolean {
  return !closedToApps.includes(group);
}

/** The narrowest right that opens a group, named in 403 answers. */
export function rightFor(group: MethodGroup): Right {
  const candidates: Right[] = ['events', 'eventsAndContactsWrite', 'eventsAndContacts', 'messages', 'fullApi'];
  return candidates.find((right) => groupsOpenedBy[right].includes(group)) ?? 'fullApi';
}
