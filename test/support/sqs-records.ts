import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/** A received message as a Lambda SQS event source hands it to the consumer. */
export function sqsRecordOf(message: Message, queueArn: string): SQSRecord {
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: message.Attributes?.SentTimestamp ?? '0',
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? '0',
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/**
 * What a Lambda event source would hand the queue's consumer next: up to `max` messages
 * received now (no wait), as event records, each hidden from other receivers for
 * `visibilityTimeout` seconds. Delete a handled one by its record's `receiptHandle`.
 */
export async function receiveRecords(
  sqs: SQSClient,
  queueUrl: string,
  { max = 1, visibilityTimeout }: { max?: number; visibilityTimeout?: number } = {},
): Promise<SQSRecord[]> {
  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: 0,
      ...(visibilityTimeout === undefined ? {} : { VisibilityTimeout: visibilityTimeout }),
      MessageSystemAttributeNames: ['All'],
    }),
  );
  const queueName = queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
  return (received.Messages ?? []).map((message) => sqsRecordOf(message, `arn:aws:sqs:us-east-1:000000000000:${queueName}`));
}
