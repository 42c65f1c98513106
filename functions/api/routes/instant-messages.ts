import * as z from 'zod';
import { json, nothing, numericId, timestamp } from '../../../shared/http/answers';
import { idParameter, idPath } from '../../../shared/http/paging';
import { noContent, ok, route, type Route } from '../../../shared/http/route';
import { instantEmailSchema, sendInstantEmail } from '../../../shared/messages/instant-email';
import { deleteLanguageVersion, languageCodeSchema, languageVersionSchema, putLanguageVersion } from '../../../shared/messages/language-versions';
import { deliveryStatuses, sendStatuses } from '../../../shared/messages/message-status';
import { preparedSendSchema, sendPreparedMessage } from '../../../shared/messages/prepared-send';
import { renderViewLink, VIEW_PATH, viewLink } from '../../../shared/messages/view-link';
import { emailMessageView } from './messaging';

/** `?ids=<requestId>,<requestId>`: the ids instant and prepared sends answered. */
const statusQuery = z
  .object({
    ids: z
      .string()
      .max(40_000)
      .transform((value) =>
        value
          .split(',')
          .map((part) => part.trim())
          .filter((part) => part !== ''),
      )
      .pipe(z.array(z.uuid()).min(1).max(1000)),
  })
  .strict();

/**
 * One recipient of an instant or prepared send, as eSputnik's send methods answer it: `OK`
 * with the `requestId` message/status follows, or `ERROR` with a code and message.
 */
export const instantSendResults = z.object({
  results: z.array(
    z.object({
      locator: z.string(),
      status: z.enum(['OK', 'ERROR']),
      requestId: z.uuid().optional(),
      contactId: numericId.optional(),
      externalRequestId: z.string().optional(),
      errorCode: z.string().optional(),
      message: z.string().optional(),
    }),
  ),
});

const deliveryStatus = z.enum(deliveryStatuses);
/** What became of each send: the furthest status and every outcome in order. */
const sendStatusResults = z.object({
  results: z.array(
    z.object({
      requestId: z.uuid(),
      messageId: numericId,
      contactId: numericId.nullable(),
      locator: z.string(),
      mediaType: z.string(),
      status: deliveryStatus,
      statusDescription: z.string().nullable(),
      sendDate: timestamp,
      statusDate: timestamp,
      events: z.array(z.object({ status: deliveryStatus, date: timestamp })),
    }),
  ),
});

const languagePath = z.object({ id: idParameter, language: languageCodeSchema }).strict();

/** The status methods and the channel each reads: every channel's, then seed 004's OLD per-channel ones. */
const statusPaths = [
  ['/api/v1/message/status', undefined],
  ['/api/v1/message/email/status', 'Email'],
  ['/api/v1/message/sms/status', 'SMS'],
  ['/api/v1/message/viber/status', 'Viber'],
] as const;

/**
 * Seed 004's message methods beyond smartsend: instant email, the older prepared send,
 * delivery status per send, language versions and the web-view link.
 */
export const instantMessagesRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/message/email',
    access: 'messages',
    docs: {
      summary: 'Send an instant email',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('Each recipient: OK with its requestId, or ERROR with a code.', instantSendResults) },
    },
    body: instantEmailSchema,
    handle: async ({ principal, platform, body }) => ok({ results: await sendInstantEmail(platform, principal.accountId, body) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/message/{id}/send',
    access: 'messages',
    docs: {
      summary: 'Send a prepared message (the older send)',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('Each recipient: OK with its requestId, or ERROR with a code.', instantSendResults) },
    },
    params: idPath,
    body: preparedSendSchema,
    handle: async ({ principal, platform, params, body }) =>
      ok({ results: await sendPreparedMessage(platform, principal.accountId, params.id, body) }),
  }),
  ...statusPaths.map(([path, mediaType]) =>
    route({
      method: 'GET',
      path,
      access: 'messages',
      docs: {
        summary: mediaType ? `Per-recipient status of ${mediaType} sends` : 'Per-recipient status of sends',
        description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
        responses: { 200: json('The status of each send found (unknown ids are left out).', sendStatusResults) },
      },
      query: statusQuery,
      handle: async ({ principal, platform, query }) => ok({ results: await sendStatuses(platform.db, principal.accountId, query.ids, mediaType) }),
    }),
  ),
  route({
    method: 'PUT',
    path: '/api/v1/messages/email/{id}/{language}',
    access: 'general',
    docs: {
      summary: "Replace: A message's language version",
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('The message with its language versions.', emailMessageView) },
    },
    params: languagePath,
    body: languageVersionSchema,
    handle: async ({ principal, platform, params, body }) =>
      ok(await putLanguageVersion(platform.db, principal.accountId, params.id, params.language, body)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/messages/email/{id}/{language}',
    access: 'general',
    docs: {
      summary: "Delete: A message's language version",
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 204: nothing('Done.') },
    },
    params: languagePath,
    handle: async ({ principal, platform, params }) => {
      await deleteLanguageVersion(platform.db, principal.accountId, params.id, params.language);
      return noContent();
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/messages/email/{id}/viewLink',
    access: 'general',
    docs: {
      summary: 'A signed, expiring web-view link of a message',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('The signed web-view link and when it expires.', z.object({ viewLink: z.url(), expires: timestamp })) },
    },
    params: idPath,
    query: z.object({ language: languageCodeSchema.optional() }).strict(),
    handle: async ({ principal, platform, params, query }) => ok(await viewLink(platform, principal.accountId, params.id, query.language)),
  }),
  route({
    method: 'GET',
    path: VIEW_PATH,
    access: 'public',
    docs: {
      summary: 'The web view of a message (signed, expiring link)',
      responses: { 200: { description: 'The rendered message.', contentType: 'text/html' } },
    },
    params: z.object({ token: z.string().min(1).max(200) }).strict(),
    // The message's own HTML, as a browser shows the email; it may not run scripts or be framed elsewhere.
    handle: async ({ platform, params }) => ({
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "script-src 'none'; frame-ancestors 'none'",
        'cache-control': 'private, no-store',
      },
      body: await renderViewLink(platform, params.token),
    }),
  }),
];
