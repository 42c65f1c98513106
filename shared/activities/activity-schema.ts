import * as z from 'zod';
import { externalCustomerIdSchema } from '../contacts/contact-schema';
import { canonicalMediaType, mediaTypes } from './media-types';

/** Seed 001's activity statuses, plus SENT, which a channel reports when it hands a message off. */
export const activityStatuses = [
  'SENT',
  'DELIVERED',
  'UNDELIVERED',
  'RECEIVED',
  'CLICKED',
  'UNSUBSCRIBED',
  'SPAM',
  'SUBSCRIPTION_CHANGED',
  'PUSH_SUBSCRIBED',
] as const;
export type ActivityStatus = (typeof activityStatuses)[number];

/**
 * Whether the date and time written at the start of `value` exist. `new Date` rolls an
 * impossible one over (2023-02-30 becomes 2 March, 24:00 the next day), so the written
 * fields must read back unchanged from a calendar set to them. A zone only shifts a time
 * that exists, so it is left out.
 */
function writtenFieldsExist(value: string): boolean {
  const written = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(value);
  if (written === null) return false;
  const fields = written.slice(1).map((digits) => Number(digits ?? 0));
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = fields;
  const calendar = new Date(0);
  calendar.setUTCFullYear(year, month - 1, day);
  calendar.setUTCHours(hour, minute, second);
  const read = [
    calendar.getUTCFullYear(),
    calendar.getUTCMonth() + 1,
    calendar.getUTCDate(),
    calendar.getUTCHours(),
    calendar.getUTCMinutes(),
    calendar.getUTCSeconds(),
  ];
  return read.every((field, index) => field === fields[index]);
}

/** An ISO-8601 date-time; one without a zone is UTC, as the seed's examples are. */
export const timestampSchema = z
  .string()
  .max(40)
  .transform((value, context) => {
    const zoned = /[zZ]|[+-]\d{2}:?\d{2}$/.test(value) ? value : `${value}Z`;
    const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(zoned) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) {
      context.addIssue({ code: 'custom', message: 'not an ISO-8601 date-time' });
      return z.NEVER;
    }
    if (!writtenFieldsExist(value)) {
      context.addIssue({ code: 'custom', message: 'no such date or time on the calendar' });
      return z.NEVER;
    }
    // Years before 1900 are typing slips here (and year 0 does not exist for PostgreSQL).
    const year = Number(value.slice(0, 4));
    if (year < 1900) {
      context.addIssue({ code: 'custom', message: 'the year must be 1900 or later' });
      return z.NEVER;
    }
    return date;
  });

const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** Seed 001's `int` ids, exported as 32-bit integers (seed 000): a larger one would stop the export for good. */
const intId = z.number().int().positive().max(2_147_483_647);
const text = (max: number) => z.string().max(max);

/** Channels an activity may name its contact by beyond a locator (email or phone), in this order. */
export const channelAddressFields = ['viber', 'mobilepush', 'webpush'] as const;
/** Channels an activity may name its contact by, after contactId and externalCustomerId, in this order. */
export const activityAddressFields = ['email', 'sms', ...channelAddressFields] as const;

/**
 * One activity as a delivery channel reports it (seed 001's fields). The contact is found
 * by contactId, else externalCustomerId, else email, sms, viber, mobilepush, webpush.
 * `iid` is the reporter's id of the send; `subscriptions` is accepted beside the seed's
 * `subscriptons`, the spelling this API documented first.
 */
export const activityInputSchema = z
  .object({
    activityStatus: z.enum(activityStatuses),
    // Any case and spacing of a known one; recordActivities stores its one spelling.
    mediaType: text(50)
      .min(1)
      .refine((value) => canonicalMediaType(value) !== undefined, { message: `one of ${mediaTypes.join(', ')} (any case)` }),
    activityDateTime: timestampSchema,
    contactId: id.optional(),
    externalCustomerId: externalCustomerIdSchema.optional(),
    iid: z.guid().optional(),
    email: text(254).optional(),
    sms: text(50).optional(),
    viber: text(50).optional(),
    mobilepush: text(1000).optional(),
    webpush: text(1000).optional(),
    messageId: intId.optional(),
    messageInstanceId: intId.optional(),
    messageName: text(100).optional(),
    messageTag: text(200).optional(),
    broadcastId: intId.optional(),
    workflowId: intId.optional(),
    workflowBlockId: text(200).optional(),
    workflowInstanceId: text(200).optional(),
    sourceEventId: intId.optional(),
    sourceEventKey: text(100).optional(),
    sourceEventTypeId: intId.optional(),
    sourceEventTypeKey: text(100).optional(),
    statusDescription: text(1000).optional(),
    hardBounce: z.boolean().optional(),
    clickEventLink: text(1000).optional(),
    viewMessageLink: text(1000).optional(),
    // Seed 001 calls it an array of data; its examples send an object.
    statusData: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
    subscriptons: z.array(text(200)).max(100).optional(),
    subscriptions: z.array(text(200)).max(100).optional(),
  })
  .strict()
  .refine(
    (activity) =>
      activity.contactId !== undefined ||
      activity.externalCustomerId !== undefined ||
      activityAddressFields.some((field) => activity[field] !== undefined),
    {
      message: 'name the contact: contactId, externalCustomerId, email, sms, viber, mobilepush or webpush',
    },
  )
  .refine((activity) => activity.subscriptons === undefined || activity.subscriptions === undefined, {
    message: 'give subscriptons (or subscriptions), not both',
    path: ['subscriptons'],
  });
export type ActivityInput = z.output<typeof activityInputSchema>;

export const MAX_ACTIVITIES_PER_CALL = 1000;
