import * as z from 'zod';
import { AppError } from '../errors';
import type { Platform } from '../platform';
import { externalRequestIdSchema } from './messages';
import { requestIdsOf } from './message-status';
import { MAX_SMARTSEND_RECIPIENTS, smartsend } from './smartsend';

/**
 * eSputnik's older "send prepared message" (POST message/{id}/send): one set of `params`
 * for every recipient, recipients as bare emails or phones. Satellite renders the
 * message's Velocity with the params as `$data` (`$!data.get('name')`).
 */
export const preparedSendSchema = z
  .object({
    recipients: z.array(z.string().trim().min(3).max(254)).min(1).max(MAX_SMARTSEND_RECIPIENTS),
    /** true: email (the default); false: SMS, which this message (an email) cannot go by. */
    email: z.boolean().default(true),
    params: z
      .array(
        z
          .object({ key: z.string().trim().min(1).max(100), value: z.union([z.string().max(100_000), z.number(), z.boolean()]).transform(String) })
          .strict(),
      )
      .max(500)
      .default([]),
    externalRequestId: externalRequestIdSchema.optional(),
  })
  .strict();
export type PreparedSend = z.output<typeof preparedSendSchema>;

export class PreparedSendNotEmail extends AppError {
  constructor() {
    super('unprocessable', 'MESSAGE_NOT_SMS', 'this method sends the account’s email messages; send SMS with POST /api/v1/message/sms');
  }
}

export async function sendPreparedMessage(platform: Platform, accountId: number, messageId: number, request: PreparedSend) {
  if (!request.email) throw new PreparedSendNotEmail();
  const jsonParam = JSON.stringify(Object.fromEntries(request.params.map((param) => [param.key, param.value])));
  const results = await smartsend(
    platform,
    accountId,
    messageId,
    request.recipients.map((locator) => ({ locator, jsonParam })),
  );
  const requestIds = await requestIdsOf(
    platform.db,
    results.flatMap((result) => (result.sendId !== undefined ? [result.sendId] : [])),
  );
  const extra = request.externalRequestId !== undefined ? { externalRequestId: request.externalRequestId } : {};
  return results.map((result) => ({
    locator: request.recipients[result.index] ?? '',
    status: result.status,
    ...(result.sendId !== undefined && requestIds.has(result.sendId) ? { requestId: requestIds.get(result.sendId) } : {}),
    ...(result.contactId !== undefined ? { contactId: result.contactId } : {}),
    ...(result.error ? { errorCode: result.error.code, message: result.error.message } : {}),
    ...extra,
  }));
}
