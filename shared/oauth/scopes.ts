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

/**
 * Seed 004's one scope name: its token answer always says `"scope": "UseRestApi"`, while what
 * the app may do is set by the rights it registered. Requested here it means the same: every
 * right the app is registered for (the consent page lists them), and the token answer then
 * says `UseRestApi`, as the seed's does.
 */
export const SEED_SCOPE = 'UseRestApi';

/** RFC 6749 scope strings are space-separated; unknown names come back in `unknown`. */
export function parseScope(scope: string): { known: Right[]; unknown: string[]; seedScope: boolean } {
  const names = [...new Set(scope.split(' ').filter((name) => name !== ''))];
  const others = names.filter((name) => name !== SEED_SCOPE);
  return { known: others.filter(isRight), unknown: others.filter((name) => !isRight(name)), seedScope: names.includes(SEED_SCOPE) };
}

/** A token answer's `scope`: seed 004's name when the grant was asked for by it and nothing was narrowed since, else the rights. */
export function formatScope(scopes: readonly Right[], asSeedScope = false): string {
  if (asSeedScope) return SEED_SCOPE;
  return [...scopes].sort((a, b) => rights.indexOf(a) - rights.indexOf(b)).join(' ');
}
