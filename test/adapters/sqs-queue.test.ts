import { CreateQueueCommand, ReceiveMessageCommand, DeleteMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsQueue } from '../../shared/adapters/aws/sqs-queue';

/**
 * The platform's queue adapter on the real SDK client against the test SQS server: calls made
 * while a request is in flight go out together, and nothing about order or failure changes.
 */
let sqs: SQSClient;
let sendRequests: number;

beforeAll(() => {
  const endpoint = process.env.SATELLITE_TEST_SQS_ENDPOINT;
  if (!endpoint) throw new Error('test services are not running (jest globalSetup)');
  sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  sqs.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'SendMessageBatchCommand') sendRequests += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countSendRequests' },
  );
});
beforeEach(() => {
  sendRequests = 0;
});
afterAll(() => sqs.destroy());

async function fifoQueue(): Promise<{ queue: SqsQueue; url: string }> {
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: `coalesce-${Date.now()}-${Math.random().toString(36).slice(2)}.fifo`, Attributes: { FifoQueue: 'true' } }),
  );
  return { queue: new SqsQueue(sqs, { webhooks: created.QueueUrl! }), url: created.QueueUrl! };
}

/** Every body in the queue, in the order SQS hands them out, by group. */
async function drainByGroup(url: string): Promise<Map<string, string[]>> {
  const byGroup = new Map<string, string[]>();
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['MessageGroupId'] }),
    );
    if (Messages.length === 0) return byGroup;
    for (const message of Messages) {
      const group = message.Attributes?.MessageGroupId ?? '';
      byGroup.set(group, [...(byGroup.get(group) ?? []), message.Body ?? '']);
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
}

const lane = (group: string, count: number) =>
  Array.from({ length: count }, (_, index) => ({ body: `${group}:${index}`, groupId: group, deduplicationId: `${group}-${index}` }));

describe('SqsQueue.send', () => {
  it('sends calls that arrive while a request is in flight together, each group in its order', async () => {
    const { queue, url } = await fifoQueue();
    const groups = Array.from({ length: 12 }, (_, index) => `account-${index}`);
    // Twelve relays at once (two messages each) and one long lane of 23 messages.
    await Promise.all([...groups.map((group) => queue.send('webhooks', lane(group, 2))), queue.send('webhooks', lane('long', 23))]);

    // One request per call would be 12 + 3; the first goes alone, the rest share requests of ten.
    expect(sendRequests).toBeLessThanOrEqual(6);
    const received = await drainByGroup(url);
    for (const group of groups) expect(received.get(group)).toEqual([`${group}:0`, `${group}:1`]);
    expect(received.get('long')).toEqual(lane('long', 23).map((message) => message.body));
  });

  it('fails only the call whose message SQS refused', async () => {
    const { queue, url } = await fifoQueue();
    const first = queue.send('webhooks', lane('first', 1));
    // Sent while the first is in flight, so all three share one request. A FIFO queue refuses
    // a per-message delay.
    const refused = queue.send('webhooks', [{ body: 'delayed', groupId: 'bad', deduplicationId: 'bad-0', delaySeconds: 5 }]);
    const others = [queue.send('webhooks', lane('before', 1)), queue.send('webhooks', lane('after', 1))];
    await first;
    await expect(refused).rejects.toMatchObject({ code: 'QUEUE_SEND_FAILED' });
    await Promise.all(others);
    expect(sendRequests).toBe(2);
    const received = await drainByGroup(url);
    expect([...received.keys()].sort()).toEqual(['after', 'before', 'first']);
  });

  it('rejects a queue the function is not bound to', async () => {
    const { queue } = await fifoQueue();
    await expect(queue.send('exports', lane('x', 1))).rejects.toMatchObject({ code: 'QUEUE_NOT_BOUND' });
  });
});
