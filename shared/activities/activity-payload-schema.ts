import * as z from 'zod';

const integer = z.number().int();

/**
 * One activity as `activityPayload` (shared/webhooks/payload.ts) writes it for webhooks and
 * `GET /api/v1/contacts/activity`: seed 001's fields, those that do not apply absent.
 * The webhook tests check delivered bodies against it.
 */
export const activityPayloadSchema = z
  .object({
    broadcastId: integer.optional(),
    messageName: z.string().optional(),
    workflowId: integer.optional(),
    workflowBlockId: z.string().optional(),
    sourceEventId: integer.optional(),
    sourceEventKey: z.string().optional(),
    sourceEventTypeId: integer.optional(),
    sourceEventTypeKey: z.string().optional(),
    workflowInstanceId: z.string().optional(),
    hardBounce: z.boolean().optional().meta({ description: 'Only for UNDELIVERED.' }),
    iid: z.string().meta({ description: 'Unique id of the activity; receivers deduplicate on it.' }),
    contactId: integer.optional(),
    externalCustomerId: z.string().optional(),
    email: z.string().optional(),
    sms: z.string().optional(),
    viber: z.string().optional(),
    mobilepush: z.string().optional(),
    webpush: z.string().optional(),
    mediaType: z.string().meta({ examples: ['Email', 'SMS', 'Viber', 'MobilePush', 'WebPush'] }),
    activityStatus: z.string().meta({ examples: ['DELIVERED', 'OPENED', 'CLICKED', 'UNDELIVERED', 'UNSUBSCRIBED'] }),
    messageId: integer.optional(),
    messageInstanceId: integer.optional(),
    messageTag: z.string().optional(),
    activityDateTime: z.iso
      .datetime({ local: true })
      .meta({ description: 'UTC, to the second, without a zone (seed 001).', examples: ['2023-09-14T08:30:03'] }),
    clickEventLink: z.string().optional().meta({ description: 'Only for CLICKED.' }),
    statusDescription: z.string().optional().meta({ description: 'Only for UNDELIVERED.' }),
    viewMessageLink: z.string().optional(),
    subscriptons: z.array(z.string()).optional().meta({ description: "Seed 001's spelling, kept: receivers are written against it." }),
    statusData: z.record(z.string(), z.unknown()),
  })
  .strict()
  .meta({ title: 'Activity' });
