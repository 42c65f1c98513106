import * as z from 'zod';
import { idPath } from '../../../shared/http/paging';
import { issueApiKey, listApiKeys, revokeApiKey } from '../../../shared/accounts/api-keys';
import { rights } from '../../../shared/accounts/rights';
import { created, noContent, ok, route, type Route } from '../../../shared/http/route';
import { json, nothing, nullableTimestamp, numericId, timestamp } from '../../../shared/http/answers';

const apiKeySummary = z.object({
  id: numericId,
  name: z.string(),
  prefix: z.string(),
  rights: z.enum(rights),
  createdAt: timestamp,
  revokedAt: nullableTimestamp,
});

/** API keys of the calling account: each with one right of seed 004's model. */
export const accountsRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/api-keys',
    access: 'credentials',
    docs: {
      summary: "List the account's API keys",
      description: 'Each with its right; the key itself is never shown again, only its prefix.',
      responses: { 200: json('The keys, revoked ones included.', z.array(apiKeySummary)) },
    },
    handle: async ({ platform, principal }) => ok(await listApiKeys(platform.db, principal.accountId)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/api-keys',
    access: 'credentials',
    docs: {
      summary: 'Issue an API key',
      description: 'The key is in this answer only; Satellite keeps its hash.',
      requestExample: { name: 'site tracker', rights: 'events' },
      responses: { 201: json('The new key.', z.object({ id: numericId, name: z.string(), rights: z.enum(rights), key: z.string() })) },
    },
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
    docs: {
      summary: 'Revoke an API key',
      responses: { 204: nothing('Revoked; calls with it now answer 401.') },
      errors: { 404: ['API_KEY_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ platform, principal, params }) => {
      await revokeApiKey(platform.db, principal.accountId, params.id);
      return noContent();
    },
  }),
];
