import { z } from 'zod';
import { externalCustomerIdSchema } from '../../../shared/contacts/contact-schema';
import { idPath, pagingQuery } from '../../../shared/http/paging';
import { accepted, created, noContent, ok, route, type Route } from '../../../shared/http/route';
import {
  createEmailMessage,
  deleteEmailMessage,
  getEmailMessage,
  listEmailMessages,
  updateEmailMessage,
} from '../../../shared/messages/messages';
import { cancelBroadcast, getBroadcast, listBroadcasts, startBroadcast } from '../../../shared/messages/broadcasts';
import { previewTemplate } from '../../../shared/messages/preview';
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
    tags: z.array(z.string().trim().min(1).max(50)).max(20).optional(),
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

export const messagingRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/messages/email',
    access: 'general',
    body: emailMessageSchema,
    handle: async ({ principal, platform, body }) => created(await createEmailMessage(platform.db, principal.accountId, body, platform.config)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/messages/email',
    access: 'general',
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
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getEmailMessage(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/messages/email/{id}',
    access: 'general',
    params: idPath,
    body: emailMessageSchema,
    handle: async ({ principal, platform, params, body }) => ok(await updateEmailMessage(platform.db, principal.accountId, params.id, body, platform.config)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/messages/email/{id}',
    access: 'general',
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
    params: idPath,
    body: z.object({ recipients: z.array(recipientSchema).min(1).max(MAX_SMARTSEND_RECIPIENTS) }).strict(),
    handle: async ({ principal, platform, params, body }) => ok({ results: await smartsend(platform, principal.accountId, params.id, body.recipients) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/templates/render',
    access: 'messages',
    body: z
      .object({
        template: template(MAX_TEMPLATE_CHARS),
        contactId: bodyId.optional(),
        externalCustomerId: externalCustomerIdSchema.optional(),
        locator: z.string().min(1).max(254).optional(),
        jsonParam: z.string().max(1_000_000).optional(),
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
      body: broadcastSchema,
      handle: async ({ principal, platform, body }) => accepted(await startBroadcast(platform, principal.accountId, body)),
    }),
  ),
  route({
    method: 'GET',
    path: '/api/v1/broadcasts',
    access: 'messages',
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
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getBroadcast(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/broadcast/{id}',
    access: 'messages',
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await cancelBroadcast(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/workflows/regular',
    access: 'settings',
    body: regularWorkflowSchema,
    handle: async ({ principal, platform, body }) => created(await createRegularWorkflow(platform, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/workflows/regular',
    access: 'settings',
    handle: async ({ principal, platform }) => ok(await listRegularWorkflows(platform.db, principal.accountId)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/workflows/regular/{id}',
    access: 'settings',
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getRegularWorkflow(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/workflows/regular/{id}',
    access: 'settings',
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
    params: idPath,
    handle: async ({ principal, platform, params }) => accepted({ queuedMembers: await runWorkflowNow(platform, principal.accountId, params.id, platform.clock.now()) }),
  }),
];
