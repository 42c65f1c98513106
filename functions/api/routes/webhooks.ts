import { z } from 'zod';
import { idParameter, wholeNumberParameter } from '../../../shared/http/paging';
import { accepted, noContent, ok, route, type Route } from '../../../shared/http/route';
import { listAttempts } from '../../../shared/webhooks/attempts';
import {
  deleteWebhook,
  getWebhook,
  redeliverActivities,
  resumeWebhook,
  rotateWebhookSecret,
  setWebhook,
} from '../../../shared/webhooks/endpoint';

const webhookUrl = z.object({ url: z.url({ protocol: /^https?$/ }).max(2048) }).strict();
const attemptsPage = z
  .object({
    limit: wholeNumberParameter(1, 500).default(50),
    before: idParameter.optional(),
  })
  .strict();
const redelivery = z.object({ activityIds: z.array(z.number().int().positive()).min(1).max(1000) }).strict();

/** One activity webhook per account (seed 001); account administration, so the `settings` group. */
export const webhooksRoutes: readonly Route[] = [
  route({
    method: 'PUT',
    path: '/api/v1/webhook',
    access: 'settings',
    body: webhookUrl,
    handle: async ({ platform, principal, body }) => ok(await setWebhook(platform, principal.accountId, body.url)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/webhook',
    access: 'settings',
    handle: async ({ platform, principal }) => ok(await getWebhook(platform, principal.accountId)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/webhook',
    access: 'settings',
    handle: async ({ platform, principal }) => {
      await deleteWebhook(platform, principal.accountId);
      return noContent();
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/webhook/resume',
    access: 'settings',
    handle: async ({ platform, principal }) => ok(await resumeWebhook(platform, principal.accountId)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/webhook/secret',
    access: 'settings',
    handle: async ({ platform, principal }) => ok(await rotateWebhookSecret(platform, principal.accountId)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/webhook/redeliver',
    access: 'settings',
    body: redelivery,
    handle: async ({ platform, principal, body }) => accepted(await redeliverActivities(platform, principal.accountId, body.activityIds)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/webhook/attempts',
    access: 'settings',
    query: attemptsPage,
    handle: async ({ platform, principal, query }) => ok({ attempts: await listAttempts(platform.db, principal.accountId, query) }),
  }),
];
