import type { BearerResolver } from '../accounts/authenticate';

/** Resolves an OAuth access token to the account and rights it was granted (issue #8). */
export const resolveAccessToken: BearerResolver = async () => undefined;
