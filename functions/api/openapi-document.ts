import * as z from 'zod';
import { activityPayloadSchema } from '../../shared/activities/activity-payload-schema';
import { retrySchedule } from '../../shared/webhooks/backoff';
import { buildOpenApiDocument, type OpenApiDocument, type RouteGroup, type WebhookSpec } from '../../shared/http/openapi';

const DESCRIPTION = `Satellite: the integration backbone of a marketing-automation platform — contacts by external ID,
PostgreSQL and BigQuery connectors, external data sources in segments and Velocity templates, trigger events with
\`jsonParam\`, data export, activity webhooks, OAuth 2.0 for partner apps.

**Authentication.** HTTP Basic with any user name and an account API key as the password, or
\`Authorization: Bearer <access token>\` from OAuth. Each operation names its method group and the rights (scopes) that open it.

**Errors.** Every refusal answers \`{"error": {"code", "message"}}\` (with \`details\` naming the fields for
\`VALIDATION_FAILED\`); branch on \`code\`. The OAuth token and revocation endpoints answer RFC 6749's
\`{"error", "error_description"}\` instead. Past the per-account rate: \`429 RATE_LIMITED\` with \`Retry-After\`.

**Limits** (lengths, counts, ranges) are in each schema: \`maxLength\`, \`maxItems\`, \`maximum\`.`;

/** The webhook retry schedule in minutes, from its one declaration (`GET /api/v1/webhook` answers the account's own). */
const retryMinutes = (() => {
  const schedule = retrySchedule(60);
  return {
    delays: schedule.delaysSeconds.map((seconds) => seconds / 60).join(', '),
    then: schedule.thenEverySeconds / 60,
    jitterPercent: Math.round(schedule.jitterRatio * 100),
  };
})();

const standardWebhookHeaders = {
  'webhook-id': { description: 'Same on every retry of this request: receivers deduplicate on it.', schema: z.string() },
  'webhook-timestamp': { description: 'Unix seconds when this attempt was signed.', schema: z.string().regex(/^\d+$/) },
  'webhook-signature': {
    description:
      'Standard Webhooks: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` with the secret (its `whsec_` prefix removed, base64-decoded); space-separated while a rotated secret is still valid.',
    schema: z.string(),
  },
};

const webhooks: Record<string, WebhookSpec> = {
  activities: {
    method: 'POST',
    summary: 'Activities (seed 001)',
    description: `A JSON array of activities, oldest first. Anything but HTTP 200 is retried after ${retryMinutes.delays} minutes, then every ${retryMinutes.then} minutes (±${retryMinutes.jitterPercent} % jitter, with \`WEBHOOK_RETRY_BASE_SECONDS\` at its default of a minute), and later activities wait behind it: per account, order is strict.`,
    headers: standardWebhookHeaders,
    body: z.array(activityPayloadSchema).min(1),
    example: [
      {
        iid: '8a2c3a1e-5d4f-4a39-9a6b-1f2e3d4c5b6a',
        contactId: 12345,
        externalCustomerId: 'crm-1042',
        email: 'olena@example.com',
        mediaType: 'Email',
        activityStatus: 'DELIVERED',
        messageId: 3,
        activityDateTime: '2023-09-14T08:30:03',
        statusData: {},
      },
    ],
    responses: { 200: { description: 'Received; anything else is retried.' } },
  },
  verification: {
    method: 'GET',
    summary: 'Verification',
    description: 'Sent when the URL is set (`PUT /api/v1/webhook`); a 2xx answer lets it be saved.',
    responses: { 200: { description: 'The URL accepts webhooks.' } },
  },
};

/** The API's OpenAPI 3.1 document for a base URL and version, from its route groups; built once for each. */
export function openApiDocumentFor(groups: () => readonly RouteGroup[]): (serverUrl: string, version?: string) => OpenApiDocument {
  const built = new Map<string, OpenApiDocument>();
  return (serverUrl, version = '1.0.0') => {
    const key = `${version} ${serverUrl}`;
    let document = built.get(key);
    if (!document) {
      document = buildOpenApiDocument({ title: 'Satellite API', version, description: DESCRIPTION, serverUrl, groups: groups(), webhooks });
      built.set(key, document);
    }
    return document;
  };
}
