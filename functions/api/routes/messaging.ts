import * as z from 'zod';
import { externalCustomerIdSchema } from '../../../shared/contacts/contact-schema';
import { idPath, pagingQuery } from '../../../shared/http/paging';
import { accepted, created, noContent, ok, route, type Route } from '../../../shared/http/route';
import {
  createEmailMessage,
  deleteEmailMessage,
  getEmailMessage,
  listEmailMessages,
  messageTagsSchema,
  updateEmailMessage,
} from '../../../shared/messages/messages';
import { cancelBroadcast, getBroadcast, listBroadcasts, startBroadcast } from '../../../shared/messages/broadcasts';
import { previewDataKinds, previewTemplate } from '../../../shared/messages/preview';
import { MAX_SMARTSEND_RECIPIENTS, smartsend } from '../../../shared/messages/smartsend';
import { MAX_TEMPLATE_CHARS } from '../../../shared/templates/limits';
import { runWorkflowNow } from '../../../shared/trigger-events/assemble';
import {
  createRegularWorkflow,
  deleteRegularWorkflow,
  getRegularWorkflow,
  listRegularWorkflows,
  regularWorkflowSchema,
} from '../../../shared/trigger-events/workflows';
import { json, nothing, nullableTimestamp, numericId, timestamp, totalCountHeader } from '../../../shared/http/answers';

/** An id inside a JSON body: a number. */
const bodyId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const template = (max: number) => z.string().max(max);

const translationSchema = z
  .object({
    languageCode: z.string().trim().min(2).max(20),
    subject: template(1000).min(1),
    htmlText: template(MAX_TEMPLATE_CHARS),
    plainText: template(MAX_TEMPLATE_CHARS).nullish(),
  })
  .strict();

const emailMessageSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    from: z.string().max(200).nullish(),
    replyTo: z.string().max(200).nullish(),
    subject: template(1000).min(1),
    htmlText: template(MAX_TEMPLATE_CHARS),
    plainText: template(MAX_TEMPLATE_CHARS).nullish(),
    tags: messageTagsSchema.optional(),
    languageCode: z.string().trim().min(2).max(20).nullish(),
    jsonParamField: z.string().trim().min(1).max(100).nullish(),
    translations: z
      .array(translationSchema)
      .max(50)
      .refine((list) => new Set(list.map((item) => item.languageCode.toLowerCase())).size === list.length, 'one version per language')
      .optional(),
  })
  .strict();

const recipientSchema = z
  .object({
    contactId: bodyId.optional(),
    externalCustomerId: externalCustomerIdSchema.optional(),
    locator: z.string().min(1).max(254).optional(),
    jsonParam: z.string().max(1_000_000).optional(),
  })
  .strict();

const broadcastSchema = z.object({ messageId: bodyId, groupId: bodyId, name: z.string().trim().min(1).max(1000).optional() }).strict();

const translationView = z.object({ languageCode: z.string(), subject: z.string(), htmlText: z.string(), plainText: z.string().nullish() });
/** An email message as the API answers it (also PUT messages/email/{id}/{language}). */
export const emailMessageView = z.object({
  id: numericId,
  name: z.string(),
  from: z.string().nullable(),
  replyTo: z.string().nullable(),
  subject: z.string(),
  htmlText: z.string(),
  plainText: z.string().nullable(),
  tags: z.array(z.string()),
  languageCode: z.string().nullable(),
  jsonParamField: z.string().nullable(),
  translations: z.array(translationView),
  createdDate: timestamp,
  updatedDate: timestamp,
});
const renderError = z.object({ code: z.string(), message: z.string(), line: z.number().int().optional(), column: z.number().int().optional() });
const smartsendResult = z.object({
  index: z.number().int(),
  status: z.enum(['OK', 'ERROR']),
  contactId: numericId.optional(),
  locator: z.string().optional(),
  sendId: numericId.optional(),
  error: renderError.optional(),
});
const broadcastView = z.object({
  id: numericId,
  name: z.string(),
  messageId: numericId.nullable(),
  groupId: numericId.nullable(),
  mediaType: z.string(),
  status: z.enum(['SCHEDULED', 'RUNNING', 'IDLE', 'PAUSED']),
  recipients: z.number().int().nullable(),
  sent: z.number().int(),
  failed: z.number().int(),
  failures: z.array(z.object({ contactId: numericId, error: renderError })),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  createdDate: timestamp,
  startedDate: nullableTimestamp,
  updatedDate: timestamp,
});
const workflowView = z.object({
  id: numericId,
  name: z.string(),
  segmentId: numericId,
  sourceIds: z.array(numericId),
  messageId: numericId.nullable(),
  schedule: z.string(),
  enabled: z.boolean(),
  eventTypeKey: z.string(),
  lastRun: z
    .object({
      at: timestamp,
      status: z.enum(['QUEUED', 'FAILED']),
      queuedMembers: z.number().int().nonnegative().optional(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    })
    .optional()
    .describe('The last run, scheduled or run now: how many members it queued, or why it failed.'),
});

export const messagingRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/messages/email',
    access: 'general',
    docs: {
      summary: 'Create an email message',
      description:
        "Subject and bodies are Velocity templates: `$!data.get('promo_codes').get(0).get('promo_code')` reads an external data source's rows for the contact.",
      requestExample: {
        name: 'Birthday',
        subject: 'Happy birthday, $!contact.firstName',
        htmlText: "<p>Your code: $!data.get('promo_codes').get(0).get('promo_code')</p>",
      },
      responses: { 201: json('The message.', emailMessageView) },
      errors: { 400: ['TEMPLATE_SYNTAX'] },
    },
    body: emailMessageSchema,
    handle: async ({ principal, platform, body }) => created(await createEmailMessage(platform.db, principal.accountId, body, platform.config)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/messages/email',
    access: 'general',
    docs: {
      summary: 'List email messages',
      responses: { 200: { ...json('One page of messages.', z.array(emailMessageView)), headers: totalCountHeader } },
    },
    query: pagingQuery(500),
    handle: async ({ principal, platform, query }) => {
      const page = await listEmailMessages(platform.db, principal.accountId, { startIndex: query.startindex, maxRows: query.maxrows });
      return ok(page.messages, { TotalCount: String(page.total) });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/messages/email/{id}',
    access: 'general',
    docs: {
      summary: 'Get an email message',
      responses: { 200: json('The message.', emailMessageView) },
      errors: { 404: ['MESSAGE_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getEmailMessage(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/messages/email/{id}',
    access: 'general',
    docs: {
      summary: 'Change an email message',
      responses: { 200: json('The message.', emailMessageView) },
      errors: { 400: ['TEMPLATE_SYNTAX'], 404: ['MESSAGE_NOT_FOUND'] },
    },
    params: idPath,
    body: emailMessageSchema,
    handle: async ({ principal, platform, params, body }) =>
      ok(await updateEmailMessage(platform.db, principal.accountId, params.id, body, platform.config)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/messages/email/{id}',
    access: 'general',
    docs: {
      summary: 'Delete an email message',
      responses: { 204: nothing('Deleted.') },
      errors: { 404: ['MESSAGE_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => {
      await deleteEmailMessage(platform.db, principal.accountId, params.id);
      return noContent();
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/message/{id}/smartsend',
    access: 'messages',
    docs: {
      summary: 'Send a prepared message (smartsend)',
      description:
        'Each recipient by contactId, else externalCustomerId, else locator (email or phone); `jsonParam` becomes `$data`. Each recipient gets its own result.',
      requestExample: { recipients: [{ externalCustomerId: 'crm-1042', jsonParam: '{"promo_codes":[{"promo_code":"BDAY-10"}]}' }] },
      responses: { 200: json('One result per recipient, in order.', z.object({ results: z.array(smartsendResult) })) },
      errors: { 404: ['MESSAGE_NOT_FOUND'] },
    },
    params: idPath,
    body: z.object({ recipients: z.array(recipientSchema).min(1).max(MAX_SMARTSEND_RECIPIENTS) }).strict(),
    handle: async ({ principal, platform, params, body }) =>
      ok({ results: await smartsend(platform, principal.accountId, params.id, body.recipients) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/templates/render',
    access: 'messages',
    docs: {
      summary: 'Preview a template for a contact',
      description: "Renders with the contact's fields and its rows in every external data source, or with `jsonParam` as `$data`.",
      responses: { 200: json('The rendered text.', z.object({ output: z.string(), contactId: numericId.optional() })) },
      errors: { 400: ['TEMPLATE_SYNTAX', 'TEMPLATE_RENDER_FAILED', 'TEMPLATE_LIMIT_EXCEEDED', 'INVALID_JSON_PARAM'], 404: ['CONTACT_NOT_FOUND'] },
    },
    body: z
      .object({
        template: template(MAX_TEMPLATE_CHARS),
        contactId: bodyId.optional(),
        externalCustomerId: externalCustomerIdSchema.optional(),
        locator: z.string().min(1).max(254).optional(),
        jsonParam: z.string().max(1_000_000).optional(),
        data: z.enum(previewDataKinds).optional(),
      })
      .strict(),
    handle: async ({ principal, platform, body }) => ok(await previewTemplate(platform, principal.accountId, body)),
  }),
  // Seed 004 names it `POST broadcast`; `POST broadcasts` is the path Satellite answered first.
  ...['/api/v1/broadcasts', '/api/v1/broadcast'].map((path) =>
    route({
      method: 'POST',
      path,
      access: 'messages',
      docs: {
        summary: path.endsWith('broadcast') ? "Start a broadcast (seed 004's name)" : 'Start a broadcast',
        description: 'Sends the message to every member of the group, in the background; follow it with `GET /api/v1/broadcast/{id}`.',
        responses: { 202: json('The broadcast, queued.', z.object({ id: numericId, status: z.enum(['SCHEDULED', 'RUNNING', 'IDLE', 'PAUSED']) })) },
        errors: { 404: ['MESSAGE_NOT_FOUND', 'GROUP_NOT_FOUND'] },
      },
      body: broadcastSchema,
      handle: async ({ principal, platform, body }) => accepted(await startBroadcast(platform, principal.accountId, body)),
    }),
  ),
  route({
    method: 'GET',
    path: '/api/v1/broadcasts',
    access: 'messages',
    docs: {
      summary: 'List broadcasts',
      responses: { 200: { ...json('One page of broadcasts.', z.array(broadcastView)), headers: totalCountHeader } },
    },
    query: pagingQuery(500),
    handle: async ({ principal, platform, query }) => {
      const page = await listBroadcasts(platform.db, principal.accountId, { startIndex: query.startindex, maxRows: query.maxrows });
      return ok(page.broadcasts, { TotalCount: String(page.total) });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/broadcast/{id}',
    access: 'messages',
    docs: {
      summary: 'Get a broadcast',
      responses: { 200: json('The broadcast, with its first failures.', broadcastView) },
      errors: { 404: ['BROADCAST_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getBroadcast(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/broadcast/{id}',
    access: 'messages',
    docs: {
      summary: 'Cancel a broadcast',
      responses: { 200: json('The broadcast, stopped.', broadcastView) },
      errors: { 404: ['BROADCAST_NOT_FOUND'], 409: ['BROADCAST_FINISHED'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await cancelBroadcast(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/workflows/regular',
    access: 'settings',
    docs: {
      summary: 'Create a regular workflow',
      description:
        'On its schedule, every member of the segment gets the event `regularEventType-<segmentId>` with `ContactId`, `EmailAddress` and `jsonParam` = `{"<sourceId>": [row, …]}`.',
      requestExample: { name: 'Birthdays', segmentId: 7, sourceIds: [2], messageId: 3 },
      responses: { 201: json('The workflow.', workflowView) },
    },
    body: regularWorkflowSchema,
    handle: async ({ principal, platform, body }) => created(await createRegularWorkflow(platform, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/workflows/regular',
    access: 'settings',
    docs: {
      summary: 'List regular workflows',
      responses: { 200: json('The workflows.', z.array(workflowView)) },
    },
    handle: async ({ principal, platform }) => ok(await listRegularWorkflows(platform.db, principal.accountId)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/workflows/regular/{id}',
    access: 'settings',
    docs: {
      summary: 'Get a regular workflow',
      responses: { 200: json('The workflow.', workflowView) },
      errors: { 404: ['WORKFLOW_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getRegularWorkflow(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/workflows/regular/{id}',
    access: 'settings',
    docs: {
      summary: 'Delete a regular workflow',
      responses: { 204: nothing('Deleted, with its schedule.') },
      errors: { 404: ['WORKFLOW_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => {
      await deleteRegularWorkflow(platform, principal.accountId, params.id);
      return noContent();
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/workflows/regular/{id}/run',
    access: 'settings',
    docs: {
      summary: 'Run a regular workflow now',
      responses: { 202: json('The members queued for trigger events.', z.object({ queuedMembers: z.number().int() })) },
      errors: { 404: ['WORKFLOW_NOT_FOUND'], 409: ['WORKFLOW_DISABLED'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) =>
      accepted({ queuedMembers: await runWorkflowNow(platform, principal.accountId, params.id, platform.clock.now()) }),
  }),
];
