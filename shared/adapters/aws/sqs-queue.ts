import { ChangeMessageVisibilityBatchCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueName } from '../../topology';
import { AppError } from '../../errors';
import type { OutgoingMessage, Queue } from '../../ports/queue';

const SQS_BATCH_LIMIT = 10;

/**
 * SQS through the AWS SDK. Locally the same adapter talks to the in-process SQS server,
 * so there is one queue implementation and the local runtime exercises it.
 */
export class SqsQueue implements Queue {
  constructor(
    private readonly client: SQSClient,
    private readonly urls: Readonly<Partial<Record<QueueName, string>>>,
  ) {}

  async send(queue: QueueName, messages: readonly OutgoingMessage[]): Promise<void> {
    const url = this.urlOf(queue);
    for (let start = 0; start < messages.length; start += SQS_BATCH_LIMIT) {
      const batch = messages.slice(start, start + SQS_BATCH_LIMIT);
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: batch.map((message, index) => ({
            Id: String(index),
            MessageBody: message.body,
            MessageGroupId: message.groupId,
            MessageDeduplicationId: message.deduplicationId,
            DelaySeconds: message.delaySeconds,
          })),
        }),
      );
      if (result.Failed && result.Failed.length > 0) {
        const first = result.Failed[0];
        throw new AppError(
          'unavailable',
          'QUEUE_SEND_FAILED',
          `queue ${queue} refused ${result.Failed.length} message(s): ${first?.Code ?? 'unknown'}`,
        );
      }
    }
  }

  async delayRedelivery(queue: QueueName, receiptHandles: readonly string[], seconds: number): Promise<void> {
    const url = this.urlOf(queue);
    for (let start = 0; start < receiptHandles.length; start += SQS_BATCH_LIMIT) {
      const batch = receiptHandles.slice(start, start + SQS_BATCH_LIMIT);
      const result = await this.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: batch.map((receiptHandle, index) => ({ Id: String(index), ReceiptHandle: receiptHandle, VisibilityTimeout: seconds })),
        }),
      );
      if (result.Failed && result.Failed.length > 0) {
        const first = result.Failed[0];
        throw new AppError(
          'unavailable',
          'QUEUE_VISIBILITY_FAILED',
          `queue ${queue} refused to delay ${result.Failed.length} message(s): ${first?.Code ?? 'unknown'}`,
        );
      }
    }
  }

  private urlOf(queue: QueueName): string {
    const url = this.urls[queue];
    if (!url) throw new AppError('unavailable', 'QUEUE_NOT_BOUND', `this function may not use the ${queue} queue`);
    return url;
  }
}
