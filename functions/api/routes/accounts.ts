import { z } from 'zod';
import { idPath } from '../../../shared/http/paging';
import { issueApiKey, listApiKeys, revokeApiKey } from '../../../shared/accounts/api-keys';
import { rights } from '../../../shared/accounts/rights';
import { created, noContent, ok, route, type Route } from '../../../shared/http/route';


/** API keys of the calling account: each with one right of seed 004's model. */
export const accountsRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/api-keys',
    access: 'credentials',
    handle: async ({ platform, principal }) => ok(await listApiKeys(platform.db, principal.accountId)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/api-keys',
    access: 'credentials',
    body: z.object({ name: z.string().trim().min(1).max(100), rights: z.enum(rights).default('fullApi') }).strict(),
    handle: async ({ platform, principal, body }) => {
      const issued = await issueApiKey(platform.db, principal.accountId, { name: body.name, rights: body.rights });
      // The key is shown this once; only its hash is kept.
      return created({ id: issued.id, name: body.name, rights: body.rights, key: issued.key });
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/api-keys/{id}',
    access: 'credentials',
    params: idPath,
    handle: async ({ platform, principal, params }) => {
      await revokeApiKey(platform.db, principal.accountId, params.id);
      return noContent();
    },
  }),
];
