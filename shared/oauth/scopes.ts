import { rights, type Right } from '../accounts/rights';

/** What the consent page tells the person approving an app (seed 004's rights). */
export const scopeDescriptions: Readonly<Record<Right, string>> = {
  fullApi: 'Full access to the API',
  events: 'Send events',
  eventsAndContacts: 'Send events, and read and change contacts and their activity',
  eventsAndContactsWrite: 'Send events, and add and change contacts (without reading them)',
  messages: 'Send messages and broadcasts',
};

export function isRight(value: string): value is Right {
  return (rights as readonly string[]).includes(value);
}

/** RFC 6749 scope strings are space-separated; unknown names come back in `unknown`. */
export function parseScope(scope: string): { known: Right[]; unknown: string[] } {
  const names = [...new Set(scope.split(' ').filter((name) => name !== ''))];
  return { known: names.filter(isRight), unknown: names.filter((name) => !isRight(name)) };
}

export function formatScope(scopes: readonly Right[]): string {
  return [...scopes].sort((a, b) => rights.indexOf(a) - rights.indexOf(b)).join(' ');
}
