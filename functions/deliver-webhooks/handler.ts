import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import { deliverLaneRecords } from '../../shared/webhooks/deliver';
import { withLambdaContext } from '../../shared/logger';

/** The webhooks FIFO queue's consumer: POSTs each account's activities in order. */
export function createHandler(platform: Platform) {
  return async (event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
    const records = event.Records.map((record) => ({
      messageId: record.messageId,
      receiptHandle: record.receiptHandle,
      body: record.body,
      sentAt: new Date(Number(record.attributes.SentTimestamp)),
    }));
    const failed = await deliverLaneRecords(platform, records, () => context.getRemainingTimeInMillis());
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  createHandler(await platformFromEnvironment())(event, context),
);
