import * as z from 'zod';
import { idParameter, wholeNumberParameter } from '../../../shared/http/paging';
import { accepted, noContent, ok, route, type Route } from '../../../shared/http/route';
import { listAttempts } from '../../../shared/webhooks/attempts';
import { deleteWebhook, getWebhook, redeliverActivities, resumeWebhook, rotateWebhookSecret, setWebhook } from '../../../shared/webhooks/endpoint';
import { json, nothing, numericId, timestamp } from '../../../shared/http/answers';

const webhookUrl = z.object({ url: z.url({ protocol: /^https?$/ }).max(2048) }).strict();
const attemptsPage = z
  .object({
    limit: wholeNumberParameter(1, 500).default(50),
    before: idParameter.optional(),
  })
  .strict();
const redelivery = z.object({ activityIds: z.array(z.number().int().positive()).min(1).max(1000) }).strict();

const webhookView = z.object({
  url: z.string(),
  state: z.enum(['active', 'suspended']),
  secretHint: z
    .string()
    .meta({ description: "The signing secret's last characters (`whsec_…AbC=`): which secret a receiver holds, never the secret." }),
  previousSecretExpiresAt: timestamp.optional(),
  consecutiveFailures: z.number().int().meta({ description: 'Failed POSTs in a row; 0 once one is delivered.' }),
  nextAttemptAt: timestamp
    .optional()
    .meta({ description: 'While a failed POST waits for its retry: the earliest time it is sent again. Absent when nothing is failing.' }),
  retrySchedule: z
    .object({
      delaysSeconds: z.array(z.number().int()),
      thenEverySeconds: z.number().int(),
      jitterRatio: z.number(),
    })
    .meta({
      description:
        'The wait after the 1st, 2nd, … failure in a row, then the wait after every later one; each wait varies by ± `jitterRatio` so receivers failing together are not retried together.',
    }),
  pendingActivities: z.number().int(),
  suspendedAt: timestamp.optional(),
  suspendedReason: z.string().optional(),
  verifiedAt: timestamp,
  createdAt: timestamp,
  updatedAt: timestamp,
});
const secretOnce = z.string().meta({ description: 'The Standard Webhooks signing secret (`whsec_…`), answered this once: store it now.' });
const webhookWithSecret = webhookView.extend({ secret: secretOnce });
const webhookMaybeWithSecret = webhookView.extend({
  secret: secretOnce.optional().meta({ description: 'Only when this call created the webhook: its signing secret, answered this once.' }),
});
const attemptView = z.object({
  id: numericId,
  attemptedAt: timestamp,
  webhookId: z.string(),
  activityCount: z.number().int(),
  firstActivityId: numericId.optional(),
  lastActivityId: numericId.optional(),
  delivered: z.boolean(),
  statusCode: z.number().int().optional(),
  error: z.string().optional(),
  latencyMs: z.number(),
  responseExcerpt: z.string().optional(),
});

/** One activity webhook per account (seed 001); account administration, so the `settings` group. */
export const webhooksRoutes: readonly Route[] = [
  route({
    method: 'PUT',
    path: '/api/v1/webhook',
    access: 'settings',
    docs: {
      summary: 'Set the activity webhook',
      description:
        'Satellite first sends the URL a GET; only a 2xx answer lets it be saved. Activities are then POSTed to it as JSON arrays (see `webhooks` in this document), signed by the Standard Webhooks headers with the secret answered here when the webhook is created (and never by GET).',
      requestExample: { url: 'https://hooks.example.com/satellite' },
      responses: { 200: json('The webhook; a new one with its signing secret, shown this once.', webhookMaybeWithSecret) },
      errors: { 400: ['WEBHOOK_URL_SCHEME', 'WEBHOOK_URL_CREDENTIALS'], 422: ['WEBHOOK_UNREACHABLE', 'WEBHOOK_VERIFICATION_FAILED'] },
    },
    body: webhookUrl,
    handle: async ({ platform, principal, body }) => ok(await setWebhook(platform, principal.accountId, body.url)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/webhook',
    access: 'settings',
    docs: {
      summary: 'Get the activity webhook',
      description: 'The signing secret is not shown again after the call that made it; rotate it to get a new one.',
      responses: { 200: json('The webhook, its failure streak, next retry and retry schedule.', webhookView) },
      errors: { 404: ['WEBHOOK_NOT_SET'] },
    },
    handle: async ({ platform, principal }) => ok(await getWebhook(platform, principal.accountId)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/webhook',
    access: 'settings',
    docs: {
      summary: 'Remove the activity webhook',
      responses: { 204: nothing('Removed; activities are no longer sent.') },
      errors: { 404: ['WEBHOOK_NOT_SET'] },
    },
    handle: async ({ platform, principal }) => {
      await deleteWebhook(platform, principal.accountId);
      return noContent();
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/webhook/resume',
    access: 'settings',
    docs: {
      summary: 'Resume a suspended webhook',
      responses: { 200: json('Delivery resumed; the activities waiting are sent again, in order.', z.object({ replayed: z.number().int() })) },
      errors: { 404: ['WEBHOOK_NOT_SET'], 409: ['WEBHOOK_NOT_SUSPENDED'] },
    },
    handle: async ({ platform, principal }) => ok(await resumeWebhook(platform, principal.accountId)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/webhook/secret',
    access: 'settings',
    docs: {
      summary: 'Rotate the signing secret',
      description: 'The previous secret keeps signing beside the new one until `previousSecretExpiresAt`.',
      responses: { 200: json('The webhook, with its new secret, shown this once.', webhookWithSecret) },
      errors: { 404: ['WEBHOOK_NOT_SET'] },
    },
    handle: async ({ platform, principal }) => ok(await rotateWebhookSecret(platform, principal.accountId)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/webhook/redeliver',
    access: 'settings',
    docs: {
      summary: 'Send activities again',
      responses: { 202: json('The activities queued, after those already waiting.', z.object({ queued: z.number().int() })) },
      errors: { 404: ['WEBHOOK_NOT_SET', 'ACTIVITY_NOT_FOUND'] },
    },
    body: redelivery,
    handle: async ({ platform, principal, body }) => accepted(await redeliverActivities(platform, principal.accountId, body.activityIds)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/webhook/attempts',
    access: 'settings',
    docs: {
      summary: 'The attempt log',
      description: 'Newest first; `before` pages back.',
      responses: { 200: json('One page of attempts.', z.object({ attempts: z.array(attemptView) })) },
    },
    query: attemptsPage,
    handle: async ({ platform, principal, query }) => ok({ attempts: await listAttempts(platform.db, principal.accountId, query) }),
  }),
];
