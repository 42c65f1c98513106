import {
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  GetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { startTestStack, type TestStack } from '../support/stack';
import { eventually } from './connectors';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

it('moves a message that is not an export job to the dead-letter queue', async () => {
  const queueUrl = stack.queueUrls.exports;
  const { Attributes } = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  const redrive = JSON.parse(Attributes?.RedrivePolicy ?? '{}') as { deadLetterTargetArn: string };
  // One receive and no visibility wait, so the test need not sit out the production limits.
  await stack.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queueUrl,
      Attributes: { VisibilityTimeout: '0', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: redrive.deadLetterTargetArn, maxReceiveCount: 1 }) },
    }),
  );
  await stack.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"runId": "not a number"}' }));

  const dlqName = redrive.deadLetterTargetArn.split(':').pop()!;
  const { QueueUrl: dlqUrl } = await stack.sqs.send(new GetQueueUrlCommand({ QueueName: dlqName }));
  const landed = await eventually(async () => {
    const received = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 0 }));
    return received.Messages?.[0];
  });
  expect(landed.Body).toBe('{"runId": "not a number"}');
});
