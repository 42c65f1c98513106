import type { QueueName } from '../topology';

export interface OutgoingMessage {
  readonly body: string;
  /** FIFO queues: messages of one group are delivered strictly in order. */
  readonly groupId?: string;
  /** FIFO queues: a repeated id within five minutes is dropped. */
  readonly deduplicationId?: string;
  readonly delaySeconds?: number;
}

/** The only thing domain code knows about SQS. */
export interface Queue {
  send(queue: QueueName, messages: readonly OutgoingMessage[]): Promise<void>;
  /** Keeps received messages invisible for `seconds` more (a consumer's backoff); 0 returns them at once. */
  delayRedelivery(queue: QueueName, receiptHandles: readonly string[], seconds: number): Promise<void>;
}
