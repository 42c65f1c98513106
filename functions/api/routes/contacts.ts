import * as z from 'zod';
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
  conditionalGroupChangesSchema,
  conditionalGroupSchema,
  createConditionalGroup,
  deleteConditionalGroup,
  countGroupMembers,
  countSegmentMembers,
  getConditionalGroup,
  listConditionalGroups,
  listGroupContacts,
  updateConditionalGroup,
} from '../../../shared/segments/conditional-groups';
import { activityPayloadSchema } from '../../../shared/activities/activity-payload-schema';
import { channelTypes } from '../../../shared/contacts/channels';
import { idAnswer, json, nothing, numericId, timestamp, totalCountHeader } from '../../../shared/http/answers';
import { conditionsSchema } from '../../../shared/segments/conditions';

const offset = wholeNumberParameter(0).default(0);

const contactView = z.object({
  id: numericId,
  externalCustomerId: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  channels: z.array(z.object({ type: z.enum(channelTypes), value: z.string() })),
  fields: z.array(z.object({ id: numericId, value: z.union([z.string(), z.number(), z.boolean(), z.null()]) })),
  languageCode: z.string().nullable(),
  timeZone: z.string().nullable(),
  address: z.record(z.string(), z.string()).nullable(),
  contactSource: z.string(),
  confirmed: z.boolean(),
  groups: z.array(z.string()),
  createdDate: timestamp,
  updatedDate: timestamp,
});

const eventView = z.object({
  id: numericId,
  eventKey: z.string(),
  eventTypeKey: z.string(),
  keyValue: z.string().nullable(),
  contactId: numericId.nullable(),
  params: z.array(z.object({ name: z.string(), value: z.string() })),
  occurredAt: timestamp,
});

const groupView = z.object({
  id: numericId,
  name: z.string(),
  type: z.literal('dynamic'),
  conditions: conditionsSchema,
  legacyId: numericId.nullable(),
});

const memberCount = z.object({ count: z.number().int().meta({ description: 'Contacts in the group now.' }) });

export const contactsRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/contact',
    access: 'contactsWrite',
    docs: {
      summary: 'Add or update a contact',
      description: 'Found by externalCustomerId, else email, else phone; a deleted contact with the same externalCustomerId is restored (seed 002).',
      requestExample: { firstName: 'Olena', channels: [{ type: 'email', value: 'olena@example.com' }], externalCustomerId: 'crm-1042' },
      responses: { 200: json('The contact saved.', idAnswer, { id: 12345 }) },
      errors: { 409: ['EXTERNAL_ID_TAKEN', 'CONTACT_BUSY'] },
    },
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
    docs: {
      summary: 'Update a contact',
      description: 'Only an existing contact; an externalCustomerId that belongs to another contact is refused.',
      responses: { 200: json('The contact updated.', idAnswer) },
      errors: { 404: ['CONTACT_NOT_FOUND'], 409: ['EXTERNAL_ID_TAKEN', 'CONTACT_BUSY'] },
    },
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
    docs: {
      summary: 'Get a contact',
      responses: { 200: json('The contact, with its externalCustomerId.', contactView) },
      errors: { 404: ['CONTACT_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getContact(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/contact/{id}',
    access: 'contactsWrite',
    docs: {
      summary: 'Delete a contact (restorable)',
      description: 'A soft delete: a later add/update with the same externalCustomerId restores it.',
      responses: { 204: nothing('Deleted.') },
      errors: { 404: ['CONTACT_NOT_FOUND'] },
    },
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
    docs: {
      summary: 'Subscribe a contact',
      description: 'Looks the contact up by externalCustomerId, then email, then phone; adds it to the named groups.',
      responses: { 200: json('The contact subscribed.', idAnswer) },
      errors: { 409: ['EXTERNAL_ID_TAKEN', 'CONTACT_BUSY'] },
    },
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
    docs: {
      summary: 'Search contacts',
      description: '`externalCustomerId` excludes the other filters. `startindex` counts from 1.',
      responses: { 200: { ...json('One page of contacts.', z.array(contactView)), headers: totalCountHeader } },
      errors: { 400: ['EXTERNAL_ID_EXCLUSIVE'] },
    },
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
    docs: {
      summary: 'Add or update contacts in bulk',
      description: 'Asynchronous: answers a session id at once; `GET /api/v1/importstatus/{sessionId}` follows it.',
      responses: { 200: json('The import is queued.', z.object({ asyncSessionId: z.uuid() })) },
    },
    body: bulkImportSchema,
    handle: async ({ principal, platform, body }) => ok({ asyncSessionId: await startContactImport(platform, principal.accountId, body) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/importstatus/{sessionId}',
    access: 'contactsWrite',
    docs: {
      summary: 'Status of a bulk import',
      responses: {
        200: json(
          'Where the import is, with the rows it refused.',
          z.object({
            asyncSessionId: z.uuid(),
            status: z.enum(['QUEUED', 'RUNNING', 'FINISHED', 'FAILED']),
            total: z.number().int(),
            processed: z.number().int(),
            created: z.number().int(),
            updated: z.number().int(),
            failed: z.number().int(),
            errors: z.array(z.object({ index: z.number().int(), code: z.string(), message: z.string() })),
          }),
        ),
      },
      errors: { 404: ['IMPORT_SESSION_NOT_FOUND'] },
    },
    params: z.object({ sessionId: z.uuid() }).strict(),
    handle: async ({ principal, platform, params }) => ok(await importStatus(platform.db, principal.accountId, params.sessionId)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/event',
    access: 'events',
    docs: {
      summary: 'Generate an event',
      requestExample: {
        eventTypeKey: 'order_paid',
        keyValue: 'olena@example.com',
        params: [{ name: 'jsonParam', value: '{"2":[{"promo_code":"BDAY-10"}]}' }],
      },
      responses: { 200: json('The event recorded.', z.object({ id: numericId, eventKey: z.string() })) },
    },
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
    docs: {
      summary: 'List events',
      description: 'Newest first, with their params (a trigger event carries `jsonParam`).',
      responses: { 200: json('One page of events.', z.array(eventView)) },
    },
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
    handle: async ({ principal, platform, query }) => ok(await listEvents(platform.db, principal.accountId, { ...query, maxRows: query.maxrows })),
  }),
  route({
    // Ingestion from delivery channels: it writes any contact's history and feeds webhooks
    // and exports, so it is account administration ('settings', full API keys), not a scope
    // a partner app gets with events or contacts.
    method: 'POST',
    path: '/api/v1/activities',
    access: 'settings',
    docs: {
      summary: 'Record activities',
      description: 'Delivery channels report outcomes (DELIVERED, OPENED, CLICKED, …); each feeds webhooks and exports.',
      responses: { 200: json('The activities recorded.', z.object({ ids: z.array(numericId) })) },
    },
    body: z.array(activityInputSchema).min(1).max(MAX_ACTIVITIES_PER_CALL),
    handle: async ({ principal, platform, body }) => ok({ ids: await recordActivities(platform, principal.accountId, body) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/contacts/activity',
    access: 'activity',
    docs: {
      summary: 'Contacts activity',
      description: "Activities between dateFrom and dateTo (at most 3 months apart), in the webhook payload's shape.",
      responses: { 200: json('One page of activities.', z.array(activityPayloadSchema)) },
    },
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
    docs: {
      summary: 'Add or update orders',
      responses: {
        200: json(
          'The orders saved.',
          z.object({
            orders: z.array(
              z.object({ externalOrderId: z.string(), id: numericId, contactId: numericId.nullable(), activityId: numericId.nullable() }),
            ),
          }),
        ),
      },
    },
    body: z.object({ orders: z.array(orderSchema).min(1).max(MAX_ORDERS_PER_CALL) }).strict(),
    handle: async ({ principal, platform, body }) => ok({ orders: await upsertOrders(platform.db, principal.accountId, body.orders) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/groups',
    access: 'contactsWrite',
    docs: {
      summary: 'Create a conditional group (segment)',
      description: "Conditions on contact fields or on an external data source's columns; only contacts present in both qualify.",
      responses: { 200: json('The group.', groupView) },
    },
    body: conditionalGroupSchema,
    handle: async ({ principal, platform, body }) => ok(await createConditionalGroup(platform, principal.accountId, body)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/groups/count',
    access: 'contactsRead',
    docs: {
      summary: 'Count the contacts conditions select, without saving a group',
      description:
        "The member count a group with these conditions would have now (conditions on an external source run in the customer's database); no member is listed and nothing is saved. A segment builder counts with it as its user edits.",
      requestExample: { conditions: [{ source: 1, column: 'points', operator: 'greaterThan', value: 100 }] },
      responses: { 200: json('The count.', memberCount) },
      errors: { 404: ['SOURCE_NOT_FOUND'] },
    },
    body: z.object({ conditions: conditionsSchema }).strict(),
    handle: async ({ principal, platform, body }) => ok({ count: await countSegmentMembers(platform, principal.accountId, body.conditions) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/groups',
    access: 'contactsRead',
    docs: {
      summary: 'List groups',
      description: 'The conditional (dynamic) groups, then the static ones (names contacts were subscribed to, with ids of their own).',
      responses: {
        200: json('The groups.', z.array(z.union([groupView, z.object({ id: numericId, name: z.string(), type: z.literal('static') })]))),
      },
    },
    // Dynamic groups, then the static ones (names contacts were subscribed to, with ids of their own).
    handle: async ({ principal, platform }) =>
      ok([...(await listConditionalGroups(platform.db, principal.accountId)), ...(await listStaticGroups(platform.db, principal.accountId))]),
  }),
  route({
    method: 'GET',
    path: '/api/v1/group/{id}',
    access: 'contactsRead',
    docs: {
      summary: 'Get a conditional group',
      responses: { 200: json('The group.', groupView) },
      errors: { 404: ['GROUP_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getConditionalGroup(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'PATCH',
    path: '/api/v1/group/{id}',
    access: 'contactsWrite',
    docs: {
      summary: 'Change a conditional group',
      description: 'Sets or clears its `legacyId` (the id templates and event keys brought from eSputnik use); other fields stay as they are.',
      responses: { 200: json('The group.', groupView) },
      errors: { 404: ['GROUP_NOT_FOUND'], 409: ['LEGACY_ID_TAKEN'] },
    },
    params: idPath,
    body: conditionalGroupChangesSchema,
    handle: async ({ principal, platform, params, body }) => ok(await updateConditionalGroup(platform.db, principal.accountId, params.id, body)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/group/{id}',
    access: 'contactsWrite',
    docs: {
      summary: 'Delete a conditional group',
      responses: { 204: nothing('Deleted.') },
      errors: { 404: ['GROUP_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => {
      await deleteConditionalGroup(platform.db, principal.accountId, params.id);
      return noContent();
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/group/{id}/count',
    access: 'contactsRead',
    docs: {
      summary: "A group's member count",
      description: 'Only the count: no member is read (the member list answers the same number as `TotalCount`, with a page of members).',
      responses: { 200: json('The count.', memberCount) },
      errors: { 404: ['GROUP_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => ok({ count: await countGroupMembers(platform, principal.accountId, params.id) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/group/{id}/contacts',
    access: 'contactsRead',
    docs: {
      summary: "A group's members",
      responses: { 200: { ...json('One page of members.', z.array(contactView)), headers: totalCountHeader } },
      errors: { 404: ['GROUP_NOT_FOUND'] },
    },
    params: idPath,
    query: pagingQuery(500),
    handle: async ({ principal, platform, params, query }) => {
      const page = await listGroupContacts(platform, principal.accountId, params.id, { startIndex: query.startindex, maxRows: query.maxrows });
      return ok(page.contacts, { TotalCount: String(page.total) });
    },
  }),
];
