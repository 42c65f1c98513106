import { ChangeMessageVisibilityBatchCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueName } from '../../topology';
import { AppError } from '../../errors';
import type { OutgoingMessage, Queue } from '../../ports/queue';

const SQS_BATCH_LIMIT = 10;
/** Bodies per SendMessageBatch request: SQS's limit before it rose to 1 MiB, which every region accepts. */
const SQS_BATCH_BYTES = 256 * 1024;

/** One `send` call waiting for its messages to go out. */
interface PendingSend {
  readonly queue: QueueName;
  readonly messages: readonly OutgoingMessage[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * SQS through the AWS SDK. Locally the same adapter talks to the local SQS server (through
 * an unsigned client), so there is one queue implementation and the local runtime exercises it.
 */
export class SqsQueue implements Queue {
  /** Calls made while a request to their queue is in flight, by queue URL, in call order. */
  private readonly waiting = new Map<string, PendingSend[]>();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly client: SQSClient,
    private readonly urls: Readonly<Partial<Record<QueueName, string>>>,
  ) {}

  /**
   * Sends at once when nothing is in flight to the queue; otherwise the call waits for the
   * request in flight and goes out with every call that arrived meanwhile, in SendMessageBatch
   * requests of up to ten (several accounts' lanes relayed at once cost one request, not one
   * each). Nothing waits for a timer. A call's messages keep their order and stay contiguous,
   * and requests to one queue go one at a time, so each FIFO group's order is the call order.
   * A call fails alone when SQS refused one of its messages.
   */
  send(queue: QueueName, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const url = this.urlOf(queue);
      const waiting = this.waiting.get(url);
      if (waiting) waiting.push({ queue, messages, resolve, reject });
      else this.waiting.set(url, [{ queue, messages, resolve, reject }]);
      if (!this.inFlight.has(url)) void this.drain(url);
    });
  }

  private async drain(url: string): Promise<void> {
    this.inFlight.add(url);
    try {
      for (let calls = this.waiting.get(url); calls; calls = this.waiting.get(url)) {
        this.waiting.delete(url);
        await this.sendTogether(url, calls);
      }
    } finally {
      this.inFlight.delete(url);
    }
  }

  private async sendTogether(url: string, calls: readonly PendingSend[]): Promise<void> {
    const failures = new Map<PendingSend, unknown>();
    for (const request of batchesOf(calls)) {
      // A call that failed sends none of its later messages: they would overtake the refused one.
      const entries = request.filter((entry) => !failures.has(entry.call));
      if (entries.length === 0) continue;
      try {
        const result = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: entries.map(({ message }, index) => ({
              Id: String(index),
              MessageBody: message.body,
              MessageGroupId: message.groupId,
              MessageDeduplicationId: message.deduplicationId,
              DelaySeconds: message.delaySeconds,
            })),
          }),
        );
        for (const failed of result.Failed ?? []) {
          const call = entries[Number(failed.Id)]?.call;
          if (call && !failures.has(call))
            failures.set(
              call,
              new AppError('unavailable', 'QUEUE_SEND_FAILED', `queue ${call.queue} refused a message: ${failed.Code ?? 'unknown'}`),
            );
        }
      } catch (error) {
        for (const { call } of entries) if (!failures.has(call)) failures.set(call, error);
      }
    }
    for (const call of calls) {
      if (failures.has(call)) call.reject(failures.get(call));
      else call.resolve();
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

/** The calls' messages in order, cut into SendMessageBatch requests by count and bytes. */
function* batchesOf(calls: readonly PendingSend[]): Generator<{ readonly call: PendingSend; readonly message: OutgoingMessage }[]> {
  let request: { call: PendingSend; message: OutgoingMessage }[] = [];
  let bytes = 0;
  for (const call of calls) {
    for (const message of call.messages) {
      const size = Buffer.byteLength(message.body);
      if (request.length === SQS_BATCH_LIMIT || (request.length > 0 && bytes + size > SQS_BATCH_BYTES)) {
        yield request;
        request = [];
        bytes = 0;
      }
      request.push({ call, message });
      bytes += size;
    }
  }
  if (request.length > 0) yield request;
}
