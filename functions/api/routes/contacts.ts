import { z } from 'zod';
import { contactSchema } from '../../../shared/contacts/contact-schema';
import { getContact } from '../../../shared/contacts/read-contact';
import { addOrUpdateContact, deleteContact, subscribeContact, updateContact } from '../../../shared/contacts/save-contact';
import { searchContacts } from '../../../shared/contacts/search-contacts';
import { noContent, ok, route, type Route } from '../../../shared/http/route';

const contactId = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();

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
    params: contactId,
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
    params: contactId,
    handle: async ({ principal, platform, params }) => ok(await getContact(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/contact/{id}',
    access: 'contactsWrite',
    params: contactId,
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
        externalCustomerId: z.string().max(100).optional(),
        startindex: z.coerce.number().int().min(1).default(1),
        maxrows: z.coerce.number().int().min(1).max(500).default(500),
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
];
