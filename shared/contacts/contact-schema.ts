import * as z from 'zod';
import { channelTypes, MAX_CHANNELS_PER_TYPE, normalizeChannelValue, normalizeEmail, normalizePhone } from './channels';

/**
 * The contact body of the API (SPEC "API conventions"), shared by the routes and the bulk
 * import consumer, which validates each stored row again.
 */
export const externalCustomerIdSchema = z
  .string()
  .trim()
  .min(1, 'externalCustomerId must not be empty')
  .max(100, 'externalCustomerId is at most 100 characters');

/** An email address as a contact's email channel takes it (messages' recipients, orders). */
export const emailAddressSchema = z
  .string()
  .max(254)
  .refine((value) => normalizeEmail(value) !== undefined, 'not a valid email address');

/** A phone number as a contact's SMS channel takes it (messages' recipients, orders). */
export const phoneNumberSchema = z
  .string()
  .max(50)
  .refine((value) => normalizePhone(value) !== undefined, 'not a valid phone number');

const channelSchema = z
  .object({ type: z.enum(channelTypes), value: z.string().max(1000) })
  .strict()
  .superRefine((channel, context) => {
    if (normalizeChannelValue(channel.type, channel.value) === undefined) {
      context.addIssue({ code: 'custom', path: ['value'], message: `not a valid ${channel.type} value` });
    }
  });

const fieldValueSchema = z.union([z.string().max(4000), z.number(), z.boolean(), z.null()]);

export const addressSchema = z
  .object({
    region: z.string().max(200).optional(),
    town: z.string().max(200).optional(),
    address: z.string().max(500).optional(),
    postcode: z.string().max(50).optional(),
  })
  .strict();

const contactShape = {
  firstName: z.string().trim().max(50).optional(),
  lastName: z.string().trim().max(50).optional(),
  channels: z
    .array(channelSchema)
    .max(12)
    .superRefine((channels, context) => {
      for (const type of channelTypes) {
        if (channels.filter((channel) => channel.type === type).length > MAX_CHANNELS_PER_TYPE) {
          context.addIssue({ code: 'custom', message: `at most ${MAX_CHANNELS_PER_TYPE} channels of type ${type}` });
        }
      }
    })
    .optional(),
  fields: z
    .array(z.object({ id: z.number().int().positive(), value: fieldValueSchema }).strict())
    .max(500)
    .optional(),
  externalCustomerId: externalCustomerIdSchema.optional(),
  languageCode: z.string().trim().max(20).optional(),
  timeZone: z.string().trim().max(100).optional(),
  address: addressSchema.optional(),
};

export const contactSchema = z.object(contactShape).strict();
export type ContactInput = z.output<typeof contactSchema>;

/** A row of bulk add/update: may name the contact by its id (`dedupeOn: "id"`). */
export const bulkContactSchema = z.object({ ...contactShape, id: z.number().int().positive().optional() }).strict();
export type BulkContactInput = z.output<typeof bulkContactSchema>;

export type FieldValue = z.output<typeof fieldValueSchema>;
