import type { Right } from './rights';

interface Verified {
  readonly accountId: number;
  readonly rights: Right;
  readonly until: number;
}

/** How long an instance trusts a key it has checked, sparing the database one query a request. */
export const VERIFIED_KEY_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

const verified = new Map<string, Verified>();

/**
 * API keys this function instance checked in the last few seconds, by key hash. A revoked
 * key stops at once on the instance that revoked it and within the TTL everywhere else.
 */
export const verifiedKeys = {
  get(keyHash: string, nowMs: number): Omit<Verified, 'until'> | undefined {
    const entry = verified.get(keyHash);
    if (!entry) return undefined;
    if (entry.until <= nowMs) {
      verified.delete(keyHash);
      return undefined;
    }
    return entry;
  },
  remember(keyHash: string, accountId: number, rights: Right, nowMs: number): void {
    if (verified.size >= MAX_ENTRIES) verified.clear();
    verified.set(keyHash, { accountId, rights, until: nowMs + VERIFIED_KEY_TTL_MS });
  },
  forgetAll(): void {
    verified.clear();
  },
};
