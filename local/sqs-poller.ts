import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '../shared/logger';
import { lambdaContext } from './lambda-context';
import { SqsJsonClient, type ReceivedMessage } from './sqs-json-client';

/** The SDK's default attempts, kept for the one call whose failure would redeliver handled messages. */
const DELETE_ATTEMPTS = 3;

export type SqsConsumer = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse | void>;

export interface PollerOptions {
  /** The SQS server's endpoint. */
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly functionName: string;
  readonly consumer: SqsConsumer;
  readonly batchSize: number;
  readonly timeoutMs: number;
  /** Parallel receive loops: Lambda's concurrency for this event source. */
  readonly concurrency: number;
}

/**
 * What a Lambda SQS event source mapping does: receive a batch, hand the consumer the real
 * SQS event shape, delete what succeeded, leave `batchItemFailures` (or everything, when
 * the consumer throws) to reappear after their visibility timeout.
 */
export class SqsPoller {
  private stopping = false;
  private loops: Promise<void>[] = [];
  private readonly region = 'us-east-1';
  /** Aborting it ends the long polls still waiting, so a stop does not wait one out. */
  private readonly stopped = new AbortController();
  /** The loops' receives and deletes reuse its keep-alive connections. */
  private readonly sqs: SqsJsonClient;

  constructor(private readonly options: PollerOptions) {
    this.sqs = new SqsJsonClient(options.endpoint);
  }

  start(): void {
    for (let index = 0; index < this.options.concurrency; index += 1) this.loops.push(this.loop());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.abort();
    await Promise.all(this.loops);
    this.sqs.destroy();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let messages: readonly ReceivedMessage[];
      try {
        messages = await this.sqs.receiveMessage(
          {
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: this.options.batchSize,
            // Long polling as Lambda's event source mapping does it: an idle queue costs one
            // receive per 20 s and loop, and a message sent meanwhile answers the receive at once.
            WaitTimeSeconds: 20,
            MessageSystemAttributeNames: ['All'],
          },
          this.stopped.signal,
        );
      } catch (error) {
        if (this.stopping) return;
        logger.warn('local poller could not receive', { queue: this.options.queueUrl, error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (messages.length === 0) continue;
      await this.deliver(messages);
    }
  }

  private async deliver(messages: readonly ReceivedMessage[]): Promise<void> {
    const records = messages.map((message) => this.toRecord(message));
    let failed: Set<string>;
    try {
      const result = await this.options.consumer({ Records: records }, lambdaContext(this.options.functionName, this.options.timeoutMs));
      failed = new Set((result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      logger.error('consumer failed the whole batch', { function: this.options.functionName, error: String(error) });
      failed = new Set(records.map((record) => record.messageId));
    }
    const done = messages.filter((message) => !failed.has(message.MessageId));
    if (done.length === 0) return;
    const entries = done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle }));
    // One delete per invocation, as the event source mapping does; tried as often as the SDK
    // would (a kept-alive connection the server has just closed fails the first write).
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.sqs.deleteMessageBatch({ QueueUrl: this.options.queueUrl, Entries: entries });
        return;
      } catch (error) {
        if (attempt < DELETE_ATTEMPTS) continue;
        // What was not deleted comes back after its visibility timeout, as on AWS.
        logger.warn('local poller could not delete handled messages', { queue: this.options.queueUrl, error: String(error) });
        return;
      }
    }
  }

  private toRecord(message: ReceivedMessage): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body,
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? '000000000000',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
        ...(attributes.MessageDeduplicationId ? { MessageDeduplicationId: attributes.MessageDeduplicationId } : {}),
        ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn,
      awsRegion: this.region,
    };
  }
}
