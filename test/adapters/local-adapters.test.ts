import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SendMessageCommand, GetQueueAttributesCommand, CreateQueueCommand } from '@aws-sdk/client-sqs';
import { EncryptedTableSecrets } from '../../shared/adapters/local/encrypted-secrets';
import { TableScheduler } from '../../shared/adapters/local/table-scheduler';
import { SqsPoller } from '../../local/sqs-poller';
import { SchedulerLoop } from '../../local/scheduler-loop';
import type { ScheduleEvent } from '../../shared/schedules/event';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ background: false });
});
afterAll(() => stack.stop());

describe('local secret store', () => {
  it('round-trips a secret and keeps only ciphertext in the database', async () => {
    const secrets = new EncryptedTableSecrets(stack.platform.db, 'passphrase-1');
    const reference = await secrets.put('connector-1', 'p@ssw0rd-value');
    expect(await secrets.get(reference)).toBe('p@ssw0rd-value');
    const { rows } = await stack.platform.db.query('SELECT ciphertext FROM local_secrets WHERE name = $1', ['connector-1']);
    expect(Buffer.from(rows[0].ciphertext).toString('utf8')).not.toContain('p@ssw0rd-value');
  });

  it('cannot be read with another key', async () => {
    const reference = await new EncryptedTableSecrets(stack.platform.db, 'key-a').put('connector-2', 'secret');
    await expect(new EncryptedTableSecrets(stack.platform.db, 'key-b').get(reference)).rejects.toThrow();
  });

  it('forgets a deleted secret', async () => {
    const secrets = new EncryptedTableSecrets(stack.platform.db, 'k');
    const reference = await secrets.put('connector-3', 'x');
    await secrets.delete(reference);
    await expect(secrets.get(reference)).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
  });
});

describe('local scheduler', () => {
  it('fires a due schedule once per period with an EventBridge-shaped event', async () => {
    let now = new Date('2026-03-01T10:00:30Z');
    const clock = { now: () => now };
    const scheduler = new TableScheduler(stack.platform.db, clock);
    await scheduler.upsert({ name: 'probe-1', expression: 'rate(15 minutes)', target: 'probe', detail: { exportId: 7 }, enabled: true });
    const fired: ScheduleEvent[] = [];
    const loop = new SchedulerLoop({ ...stack.platform, clock }, { probe: async (event) => void fired.push(event) });

    expect(await loop.fireDue()).toBe(0);
    now = new Date('2026-03-01T10:15:00Z');
    expect(await loop.fireDue()).toBe(1);
    expect(await loop.fireDue()).toBe(0);
    expect(fired).toEqual([
      expect.objectContaining({ 'detail-type': 'probe', source: 'satellite.scheduler', detail: { exportId: 7 }, time: '2026-03-01T10:15:00.000Z' }),
    ]);
  });

  it('does not fire a disabled or deleted schedule', async () => {
    const now = new Date('2026-03-02T00:00:00Z');
    const clock = { now: () => now };
    const scheduler = new TableScheduler(stack.platform.db, { now: () => new Date('2026-03-01T00:00:00Z') });
    await scheduler.upsert({ name: 'paused', expression: 'rate(1 hour)', target: 'probe', detail: { tag: 'paused' }, enabled: false });
    await scheduler.upsert({ name: 'gone', expression: 'rate(1 hour)', target: 'probe', detail: { tag: 'gone' }, enabled: true });
    await scheduler.delete('gone');
    const fired: string[] = [];
    const loop = new SchedulerLoop({ ...stack.platform, clock }, { probe: async (event) => void fired.push(String(event.detail.tag)) });
    await loop.fireDue();
    expect(fired).not.toContain('paused');
    expect(fired).not.toContain('gone');
  });
});

describe('local SQS event source', () => {
  it('hands the consumer real SQS records, deletes successes and redelivers reported failures', async () => {
    const created = await stack.sqs.send(new CreateQueueCommand({ QueueName: `probe-${Date.now()}`, Attributes: { VisibilityTimeout: '1' } }));
    const queueUrl = created.QueueUrl!;
    for (const body of ['a', 'b', 'c']) await stack.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

    const seen: string[] = [];
    let failedOnce = false;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const consumer = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const failures: { itemIdentifier: string }[] = [];
      for (const record of event.Records) {
        expect(record).toMatchObject({ eventSource: 'aws:sqs', attributes: { ApproximateReceiveCount: expect.any(String) } });
        seen.push(`${record.body}:${record.attributes.ApproximateReceiveCount}`);
        if (record.body === 'b' && !failedOnce) {
          failedOnce = true;
          failures.push({ itemIdentifier: record.messageId });
        }
      }
      if (seen.some((entry) => entry === 'b:2')) resolveDone();
      return { batchItemFailures: failures };
    };
    const poller = new SqsPoller({
      endpoint: stack.platform.config.sqsEndpoint ?? '',
      queueUrl,
      queueArn: 'arn:probe',
      functionName: 'probe',
      consumer,
      batchSize: 10,
      timeoutMs: 5000,
      concurrency: 1,
    });
    poller.start();
    await done;
    await poller.stop();

    expect(seen.filter((entry) => entry.startsWith('a'))).toEqual(['a:1']);
    expect(seen.filter((entry) => entry.startsWith('b'))).toEqual(['b:1', 'b:2']);
    const attributes = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
    expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('0');
  });
});

describe('local scheduler claims', () => {
  it('fires a due schedule once when two callers race for it', async () => {
    const now = new Date('2026-04-01T12:00:00Z');
    const clock = { now: () => now };
    await new TableScheduler(stack.platform.db, { now: () => new Date('2026-04-01T11:00:00Z') }).upsert({
      name: 'raced',
      expression: 'rate(1 hour)',
      target: 'probe',
      detail: { tag: 'raced' },
      enabled: true,
    });
    const fired: string[] = [];
    const target = async (event: ScheduleEvent) => void fired.push(String(event.detail.tag));
    const first = new SchedulerLoop({ ...stack.platform, clock }, { probe: target });
    const second = new SchedulerLoop({ ...stack.platform, clock }, { probe: target });
    await Promise.all([first.fireDue(), second.fireDue(), first.fireDue()]);
    expect(fired.filter((tag) => tag === 'raced')).toEqual(['raced']);
  });
});
