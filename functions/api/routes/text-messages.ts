import * as z from 'zod';
import { json, numericId, timestamp, totalCountHeader } from '../../../shared/http/answers';
import { timestampSchema } from '../../../shared/activities/activity-schema';
import { idPath, pagingQuery } from '../../../shared/http/paging';
import { created, ok, route, type Route } from '../../../shared/http/route';
import {
  createSmsMessage,
  getSmsMessage,
  instantSmsSchema,
  instantViberSchema,
  listSmsMessages,
  sendTexts,
  smsCallouts,
  smsMessageSchema,
  textInterfaces,
} from '../../../shared/messages/text-messages';
import { instantSendResults } from './instant-messages';

/** callouts/sms reads at most this period, as contacts/activity does. */

const smsMessageView = z.object({
  id: numericId,
  name: z.string(),
  from: z.string().nullable(),
  text: z.string(),
  tags: z.array(z.string()),
  createdDate: timestamp,
  updatedDate: timestamp,
});
const smsInterfaces = z.array(z.object({ type: z.literal('sms'), name: z.string(), default: z.boolean() }));
const smsCalloutDays = z.array(
  z.object({
    date: z.iso.date(),
    sent: z.number().int().nonnegative(),
    delivered: z.number().int().nonnegative(),
    undelivered: z.number().int().nonnegative(),
  }),
);

/** Seed 004's SMS and Viber methods: SMS messages, sender IDs, instant sends and their statistics. */
export const textMessagesRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/messages/sms',
    access: 'general',
    docs: {
      summary: 'SMS messages',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: { ...json("One page of the account's SMS messages.", z.array(smsMessageView)), headers: totalCountHeader } },
    },
    query: pagingQuery(500),
    handle: async ({ principal, platform, query }) => {
      const page = await listSmsMessages(platform.db, principal.accountId, { startIndex: query.startindex, maxRows: query.maxrows });
      return ok(page.messages, { TotalCount: String(page.total) });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/messages/sms/{id}',
    access: 'general',
    docs: {
      summary: 'An SMS message',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('The SMS message.', smsMessageView) },
    },
    params: idPath,
    handle: async ({ principal, platform, params }) => ok(await getSmsMessage(platform.db, principal.accountId, params.id)),
  }),
  route({
    // Not among seed 004's methods, but GET messages/sms needs a way for messages to exist (as POST messages/email does for email).
    method: 'POST',
    path: '/api/v1/messages/sms',
    access: 'general',
    docs: {
      summary: 'Create an SMS message',
      description: "Not among seed 004's methods: GET messages/sms needs a way for messages to exist, as POST messages/email does for email.",
      responses: { 201: json('The message.', smsMessageView) },
    },
    body: smsMessageSchema,
    handle: async ({ principal, platform, body }) => created(await createSmsMessage(platform, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/interfaces/sms',
    access: 'general',
    docs: {
      summary: 'SMS sender interfaces',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('The sender IDs, the first the default.', smsInterfaces) },
    },
    handle: async ({ platform }) => ok(textInterfaces(platform)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/callouts/sms',
    access: 'general',
    docs: {
      summary: 'SMS callouts',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('SMS sends per day (UTC) over the period, by outcome so far.', smsCalloutDays) },
    },
    query: z.object({ dateFrom: timestampSchema, dateTo: timestampSchema }).strict(),
    handle: async ({ principal, platform, query }) => ok(await smsCallouts(platform.db, principal.accountId, query)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/message/sms',
    access: 'messages',
    docs: {
      summary: 'Send an instant SMS',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('Each number: OK with its requestId (queued for the texts worker), or ERROR with a code.', instantSendResults) },
    },
    body: instantSmsSchema,
    handle: async ({ principal, platform, body }) => ok({ results: await sendTexts(platform, principal.accountId, 'SMS', body) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/message/viber',
    access: 'messages',
    docs: {
      summary: 'Send an instant Viber message',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('Each number: OK with its requestId (queued for the texts worker), or ERROR with a code.', instantSendResults) },
    },
    body: instantViberSchema,
    handle: async ({ principal, platform, body }) => ok({ results: await sendTexts(platform, principal.accountId, 'Viber', body) }),
  }),
];
