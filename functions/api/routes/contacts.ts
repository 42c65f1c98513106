import { z } from 'zod';
import { idParameter, idPath, maxRowsParameter, pagingQuery, startIndexParameter, wholeNumberParameter } from '../../../shared/http/paging';
import { activityInputSchema, MAX_ACTIVITIES_PER_CALL, timestampSchema } from '../../../shared/activities/activity-schema';
import { queryActivities } from '../../../shared/activities/query-activities';
import { recordActivities } from '../../../shared/activities/record';
import { bulkImportSchema, importStatus, startContactImport } from '../../../shared/contacts/bulk-import';
import { contactSchema, externalCustomerIdSchema } from '../../../shared/contacts/contact-schema';
import { getContact } from '../../../shared/contacts/read-contact';
import { addOrUpdateContact, deleteContact, subscribeContact, updateContact } from '../../../shared/contacts/save-contact';
import { searchContacts } from '../../../shared/contacts/search-contacts';
import { listStaticGroups } from '../../../shared/contacts/static-groups';
import { eventSchema, eventTypeKeySchema, generateEvent, listEvents } from '../../../shared/events/generate-event';
import { noContent, ok, route, type Route } from '../../../shared/http/route';
import { MAX_ORDERS_PER_CALL, orderSchema, upsertOrders } from '../../../shared/orders/upsert-orders';
import {
  conditionalGroupSchema,
  createConditionalGroup,
  deleteConditionalGroup,
  getConditionalGroup,
  listConditionalGroups,
  listGroupContacts,
} from '../../../shared/segments/conditional-groups';

const offset = wholeNumberParameter(0).default(0);

export const contactsRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/contact',
    access: 'contactsWrite',
    body: contactSchema,
    handle: async ({ principal, platform, body }) => {
      const saved = await addOrUpdateContact(platform.db, principal.accountId, body);
      return ok({ id: saved.id });
    },
  }),
  route({
    method: 'PUT',
    path: '/api/v1/contact/{id}',
    access: 'contactsWrite',
    params: idPath,
    body: contactSchema,
    handle: async ({ principal, platform, params, body }) => {
      await updateContact(platform.db, principal.accountId, params.id, body);
      return ok({ id: params.id });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/contact/{id}',
    access: 'contactsRead',
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getContact(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/contact/{id}',
    access: 'contactsWrite',
    params: idPath,
    handle: async ({ principal, platform, params }) => {
      await deleteContact(platform.db, principal.accountId, params.id);
      return noContent();
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/contact/subscribe',
    access: 'contactsWrite',
    body: z
      .object({
        contact: contactSchema,
        groups: z.array(z.string().trim().min(1).max(200)).max(100).optional(),
        formType: z.string().max(100).optional(),
      })
      .strict(),
    handle: async ({ principal, platform, body }) => {
      const saved = await subscribeContact(platform.db, principal.accountId, body.contact, body.groups ?? []);
      return ok({ id: saved.id });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/contacts',
    access: 'contactsRead',
    query: z
      .object({
        email: z.string().max(254).optional(),
        sms: z.string().max(50).optional(),
        firstname: z.string().max(50).optional(),
        lastname: z.string().max(50).optional(),
        externalCustomerId: externalCustomerIdSchema.optional(),
        startindex: startIndexParameter,
        maxrows: maxRowsParameter(500),
      })
      .strict(),
    handle: async ({ principal, platform, query }) => {
      const page = await searchContacts(platform.db, principal.accountId, {
        email: query.email,
        sms: query.sms,
        firstName: query.firstname,
        lastName: query.lastname,
        externalCustomerId: query.externalCustomerId,
        startIndex: query.startindex,
        maxRows: query.maxrows,
      });
      return ok(page.contacts, { TotalCount: String(page.total) });
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/contacts',
    access: 'contactsWrite',
    body: bulkImportSchema,
    handle: async ({ principal, platform, body }) => ok({ asyncSessionId: await startContactImport(platform, principal.accountId, body) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/importstatus/{sessionId}',
    access: 'contactsWrite',
    params: z.object({ sessionId: z.uuid() }).strict(),
    handle: async ({ principal, platform, params }) => ok(await importStatus(platform.db, principal.accountId, params.sessionId)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/event',
    access: 'events',
    body: eventSchema,
    handle: async ({ principal, platform, body }) => {
      const event = await generateEvent(platform.db, platform.clock, principal.accountId, body);
      return ok({ id: event.id, eventKey: event.eventKey });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/events',
    // Reading back what was sent (contacts' addresses and ids in the params) is contact
    // activity: a key that may only send events, such as a site tracker's, cannot list them.
    access: 'activity',
    query: z
      .object({
        eventTypeKey: eventTypeKeySchema.optional(),
        contactId: idParameter.optional(),
        dateFrom: timestampSchema.optional(),
        dateTo: timestampSchema.optional(),
        offset,
        maxrows: maxRowsParameter(1000),
      })
      .strict(),
    handle: async ({ principal, platform, query }) =>
      ok(await listEvents(platform.db, principal.accountId, { ...query, maxRows: query.maxrows })),
  }),
  route({
    // Ingestion from delivery channels: it writes any contact's history and feeds webhooks
    // and exports, so it is account administration ('settings', full API keys), not a scope
    // a partner app gets with events or contacts.
    method: 'POST',
    path: '/api/v1/activities',
    access: 'settings',
    body: z.array(activityInputSchema).min(1).max(MAX_ACTIVITIES_PER_CALL),
    handle: async ({ principal, platform, body }) => ok({ ids: await recordActivities(platform, principal.accountId, body) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/contacts/activity',
    access: 'activity',
    query: z
      .object({
        dateFrom: timestampSchema,
        dateTo: timestampSchema,
        email: z.string().max(254).optional(),
        sms: z.string().max(50).optional(),
        externalCustomerId: externalCustomerIdSchema.optional(),
        activityStatus: z.string().max(50).optional(),
        messageTag: z.string().max(200).optional(),
        offset,
        maxrows: maxRowsParameter(1000),
      })
      .strict(),
    handle: async ({ principal, platform, query }) =>
      ok(await queryActivities(platform.db, principal.accountId, { ...query, maxRows: query.maxrows })),
  }),
  route({
    method: 'POST',
    path: '/api/v1/orders',
    access: 'contactsWrite',
    body: z.object({ orders: z.array(orderSchema).min(1).max(MAX_ORDERS_PER_CALL) }).strict(),
    handle: async ({ principal, platform, body }) => ok({ orders: await upsertOrders(platform.db, principal.accountId, body.orders) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/groups',
    access: 'contactsWrite',
    body: conditionalGroupSchema,
    handle: async ({ principal, platform, body }) => ok(await createConditionalGroup(platform.db, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/groups',
    access: 'contactsRead',
    // Dynamic groups, then the static ones (names contacts were subscribed to, with ids of their own).
    handle: async ({ principal, platform }) => ok([...(await listConditionalGroups(platform.db, principal.accountId)), ...(await listStaticGroups(platform.db, principal.accountId))]),
  }),
  route({
    method: 'GET',
    path: '/api/v1/group/{id}',
    access: 'contactsRead',
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getConditionalGroup(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/group/{id}',
    access: 'contactsWrite',
    params: idPath,
    handle: async ({ principal, platform, params }) => {
      await deleteConditionalGroup(platform.db, principal.accountId, params.id);
      return noContent();
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/group/{id}/contacts',
    access: 'contactsRead',
    params: idPath,
    query: pagingQuery(500),
    handle: async ({ principal, platform, params, query }) => {
      const page = await listGroupContacts(platform, principal.accountId, params.id, { startIndex: query.startindex, maxRows: query.maxrows });
      return ok(page.contacts, { TotalCount: String(page.total) });
    },
  }),
];
