import * as z from 'zod';
import { json, numericId } from '../../../shared/http/answers';
import { normalizeEmail } from '../../../shared/contacts/channels';
import { contactUploadSchema, startContactUpload } from '../../../shared/contacts/file-import';
import { contactEmails, MAX_LOOKUP_VALUES } from '../../../shared/contacts/lookup-emails';
import { detachFromStaticGroup } from '../../../shared/contacts/static-groups';
import {
  getContactSubscriptions,
  MAX_SUBSCRIPTIONS_PER_CONTACT,
  replaceContactSubscriptions,
  subscriptionKeySchema,
} from '../../../shared/contacts/subscriptions';
import { liftUnsubscribes, unsubscribeAddresses } from '../../../shared/email/suppressions';
import { idPath } from '../../../shared/http/paging';
import { ok, route, type Route } from '../../../shared/http/route';

/** A comma-separated list in a query parameter (eSputnik's style: `?ids=1,2,3`). */
const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .max(100_000)
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== ''),
    )
    .pipe(z.array(item).min(1).max(MAX_LOOKUP_VALUES));

const emailSchema = z
  .string()
  .max(254)
  .refine((value) => normalizeEmail(value) !== undefined, 'not a valid email address');
const contactIdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const unsubscribedBody = z.object({ emails: z.array(emailSchema).min(1).max(1000) }).strict();

/**
 * Seed 004's contact methods beyond add/update/read: lookups by email, subscription
 * categories, the account's unsubscribed emails (the email channel's suppression list),
 * static groups and file imports.
 */
export const contactListsRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/contacts/email',
    access: 'contactsRead',
    docs: {
      summary: 'Look up contacts by email or ids',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('Each live contact found with each of its email addresses.', z.array(z.object({ id: numericId, email: z.string() }))) },
    },
    query: z
      .object({
        ids: commaList(
          z
            .string()
            .regex(/^\d{1,15}$/, 'a contact id')
            .transform(Number),
        ).optional(),
        emails: commaList(emailSchema).optional(),
      })
      .strict()
      .refine((query) => query.ids !== undefined || query.emails !== undefined, { message: 'give ids or emails' }),
    handle: async ({ principal, platform, query }) =>
      ok(await contactEmails(platform.db, principal.accountId, { ids: query.ids, emails: query.emails })),
  }),
  route({
    method: 'GET',
    path: '/api/v1/contact/{id}/subscriptions',
    access: 'contactsRead',
    docs: {
      summary: "A contact's subscription categories",
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('The categories the contact is subscribed to.', z.array(z.string())) },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getContactSubscriptions(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/contact/{id}/subscriptions',
    access: 'contactsWrite',
    docs: {
      summary: "Replace: A contact's subscription categories",
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('The categories the contact is subscribed to now.', z.array(z.string())) },
    },
    params: idPath,
    body: z.object({ subscriptions: z.array(subscriptionKeySchema).max(MAX_SUBSCRIPTIONS_PER_CONTACT) }).strict(),
    handle: async ({ principal, platform, params, body }) =>
      ok(await replaceContactSubscriptions(platform.db, principal.accountId, params.id, body.subscriptions)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/emails/unsubscribed/add',
    access: 'contactsWrite',
    docs: {
      summary: 'Add emails to the unsubscribed list',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('The addresses on the unsubscribed list now (normalized).', z.object({ emails: z.array(z.string()) })) },
    },
    body: unsubscribedBody,
    // The same list every email send checks: an address added here gets no more email from the account.
    handle: async ({ principal, platform, body }) => ok({ emails: await unsubscribeAddresses(platform.db, principal.accountId, body.emails) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/emails/unsubscribed/delete',
    access: 'contactsWrite',
    docs: {
      summary: 'Remove emails from the unsubscribed list (unsubscribes only)',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: {
        200: json('The addresses taken off the list (those that were on it as unsubscribed).', z.object({ emails: z.array(z.string()) })),
      },
    },
    body: unsubscribedBody,
    handle: async ({ principal, platform, body }) => ok({ emails: await liftUnsubscribes(platform.db, principal.accountId, body.emails) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/group/{id}/contacts/detach',
    access: 'contactsWrite',
    docs: {
      summary: 'Detach contacts from a static group',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('How many of the contacts were in the group and left it.', z.object({ detached: z.number().int().nonnegative() })) },
    },
    params: idPath,
    body: z.object({ contactIds: z.array(contactIdSchema).min(1).max(1000) }).strict(),
    handle: async ({ principal, platform, params, body }) =>
      ok({ detached: await detachFromStaticGroup(platform.db, principal.accountId, params.id, body.contactIds) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/contacts/upload',
    access: 'contactsWrite',
    docs: {
      summary: 'Import contacts from a CSV or XLSX file or link (asynchronous)',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('The import session; GET /api/v1/importstatus/{asyncSessionId} follows it.', z.object({ asyncSessionId: z.uuid() })) },
    },
    body: contactUploadSchema,
    handle: async ({ principal, platform, body }) => ok({ asyncSessionId: await startContactUpload(platform, principal.accountId, body) }),
  }),
];
