import * as z from 'zod';
import { json, numericId } from '../../../shared/http/answers';
import { accountInfo, addressBooks, balance } from '../../../shared/account-info/account-info';
import { getTokenActivation, setTokenActivation } from '../../../shared/contacts/push-tokens';
import { listSubscriptionCategories } from '../../../shared/contacts/subscriptions';
import { sendingProfile } from '../../../shared/email/settings';
import { ok, route, type Route } from '../../../shared/http/route';
import { interactionStatuses, recordInteractionStatus, type InteractionStatus } from '../../../shared/messages/interactions';
import { timestampSchema } from '../../../shared/activities/activity-schema';

/** account/info: eSputnik's `userName` and `organisationName`, with what Satellite adds (docs/esputnik-api.md). */
const accountInfoAnswer = z.object({
  userName: z.string(),
  organisationName: z.string(),
  accountId: numericId,
  contacts: z.object({ total: z.number().int().nonnegative(), deleted: z.number().int().nonnegative() }),
  limits: z.record(z.string(), z.number()),
});
/** balance: eSputnik's fields, each null (Satellite keeps no billing), and why. */
const balanceAnswer = z.object({
  currentBalance: z.null(),
  currency: z.null(),
  creditLimit: z.null(),
  bonusEmails: z.null(),
  bonusSmses: z.null(),
  billing: z.literal('none'),
});
const addressBooksAnswer = z.object({
  addressBook: z.array(
    z.object({
      addressBookId: numericId,
      name: z.string(),
      fieldGroups: z.array(z.object({ name: z.string(), fields: z.array(z.object({ id: z.number().int(), name: z.string() })) })),
    }),
  ),
});
const emailInterfacesAnswer = z.array(
  z.object({ type: z.literal('email'), email: z.string(), name: z.string().nullable(), replyTo: z.string().nullable() }),
);
const tokenActivationAnswer = z.object({ appUuid: z.uuid(), tokenId: z.string(), activated: z.boolean(), contactId: numericId.nullable() });

const tokenPath = z.object({ app_uuid: z.uuid(), token_id: z.string().min(1).max(4096) }).strict();

/**
 * Seed 004's general methods (any right opens them): what the account is, its limits and
 * senders, and the statistics calls a mobile app makes.
 */
export const accountInfoRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/account/info',
    access: 'general',
    docs: {
      summary: 'Account info (seed 004)',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('The account: name, ids, contact counts and API limits.', accountInfoAnswer) },
    },
    handle: async ({ principal, platform }) => ok(await accountInfo(platform, principal)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/balance',
    access: 'general',
    docs: {
      summary: 'Balance (seed 004; Satellite keeps no billing)',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('No balance: Satellite keeps no billing (every amount null).', balanceAnswer) },
    },
    handle: async () => ok(balance()),
  }),
  route({
    method: 'GET',
    path: '/api/v1/subscriptions',
    access: 'general',
    docs: {
      summary: 'Subscription categories of the account',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json("The account's subscription categories (keys).", z.array(z.string())) },
    },
    handle: async ({ principal, platform }) => ok(await listSubscriptionCategories(platform.db, principal.accountId)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/addressbooks',
    access: 'general',
    docs: {
      summary: "Address books (the account's contact lists)",
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json("The account's one address book and the additional field ids its contacts carry.", addressBooksAnswer) },
    },
    handle: async ({ principal, platform }) => {
      const info = await accountInfo(platform, principal);
      return ok(await addressBooks(platform.db, principal.accountId, info.organisationName));
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/interfaces/email',
    access: 'general',
    docs: {
      summary: 'Email sender interfaces',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json("The account's email sender (none set: an empty list).", emailInterfacesAnswer) },
    },
    // The account's sender (PUT /api/v1/settings/email); none set yet: an empty list.
    handle: async ({ principal, platform }) => {
      const profile = await sendingProfile(platform, principal.accountId);
      if (!profile) return ok([]);
      return ok([{ type: 'email', email: profile.from.address, name: profile.from.name ?? null, replyTo: profile.replyTo ?? null }]);
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/contact/token/activated/{app_uuid}/{token_id}',
    access: 'general',
    docs: {
      summary: 'Mobile push token activation',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json("The token's activation and its contact.", tokenActivationAnswer) },
    },
    params: tokenPath,
    handle: async ({ principal, platform, params }) =>
      ok(await getTokenActivation(platform.db, principal.accountId, params.app_uuid, params.token_id)),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/contact/token/activated/{app_uuid}/{token_id}',
    access: 'general',
    docs: {
      summary: 'Replace: Mobile push token activation',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json("The token's activation as stored.", tokenActivationAnswer) },
    },
    params: tokenPath,
    body: z.object({ activated: z.boolean().default(true) }).strict(),
    handle: async ({ principal, platform, params, body }) =>
      ok(await setTokenActivation(platform.db, principal.accountId, params.app_uuid, params.token_id, body.activated)),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/interactions/{interaction_id}/status',
    access: 'general',
    docs: {
      summary: "Replace: Set an interaction's status",
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: {
        200: json(
          'The status recorded for the interaction.',
          z.object({ interactionId: z.uuid(), status: z.enum(Object.keys(interactionStatuses) as [InteractionStatus, ...InteractionStatus[]]) }),
        ),
      },
    },
    params: z.object({ interaction_id: z.uuid() }).strict(),
    body: z
      .object({
        status: z.enum(Object.keys(interactionStatuses) as [InteractionStatus, ...InteractionStatus[]]),
        time: timestampSchema.optional(),
      })
      .strict(),
    handle: async ({ principal, platform, params, body }) => {
      await recordInteractionStatus(platform, principal.accountId, params.interaction_id, body.status, body.time);
      return ok({ interactionId: params.interaction_id, status: body.status });
    },
  }),
];
