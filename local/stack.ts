import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Server } from 'node:http';
import { createHandler as createApiHandler } from '../functions/api/handler';
import { queueUrlVariables, readConfig, type QueueName } from '../shared/config';
import { createPlatform, type Platform } from '../shared/platform';
import type { Clock } from '../shared/ports/clock';
import { migrate } from '../shared/store/migrate';
import { migrations } from '../shared/store/migrations';
import { startHttpGateway } from './http-gateway';
import { SchedulerLoop } from './scheduler-loop';
import { SqsPoller } from './sqs-poller';
import { localFixedSchedules, localQueues, localScheduleTargets } from './topology';

export interface LocalStackOptions {
  readonly databaseUrl: string;
  readonly sqsEndpoint: string;
  /** Prefix of every queue name, so several stacks can share one SQS server. */
  readonly queuePrefix: string;
  readonly port: number;
  readonly secretsKey: string;
  /** Extra environment for the platform config (e.g. WEBHOOK_RETRY_BASE_SECONDS). */
  readonly env?: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  /** Start the queue pollers and the scheduler loop (tests may drive them by hand). */
  readonly background?: boolean;
}

export interface LocalStack {
  readonly url: string;
  readonly platform: Platform;
  readonly queueUrls: Readonly<Record<QueueName, string>>;
  readonly sqs: SQSClient;
  readonly scheduler: SchedulerLoop;
  stop(): Promise<void>;
}

/**
 * The whole stack in this process: migrations, the HTTP API behind a local API Gateway,
 * SQS queues (with dead-letter queues) and their consumers, and the schedules.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const sqs = new SQSClient({
    endpoint: options.sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const queues = await createQueues(sqs, options.queuePrefix);

  const env: Record<string, string | undefined> = {
    ...process.env,
    SATELLITE_RUNTIME: 'local',
    DATABASE_URL: options.databaseUrl,
    SQS_ENDPOINT: options.sqsEndpoint,
    SATELLITE_SECRETS_KEY: options.secretsKey,
    ...options.env,
  };
  for (const queue of localQueues) env[queueUrlVariables[queue.name]] = queues[queue.name].url;
  const config = readConfig(env);
  const platform = await createPlatform(config, { clock: options.clock });
  await migrate(platform.db, migrations);
  for (const schedule of localFixedSchedules) await platform.scheduler.upsert(schedule);

  const api = createApiHandler(() => Promise.resolve(platform));
  const gateway = await startHttpGateway(api, options.port);
  const url = gateway.url;

  const pollers = localQueues.flatMap((queue) => {
    if (!queue.consumer) return [];
    return [
      new SqsPoller({
        client: sqs,
        queueUrl: queues[queue.name].url,
        queueArn: queues[queue.name].arn,
        functionName: queue.functionName,
        consumer: queue.consumer(platform),
        batchSize: queue.batchSize,
        timeoutMs: queue.timeoutMs,
        concurrency: queue.concurrency,
      }),
    ];
  });
  const targets = Object.fromEntries(Object.entries(localScheduleTargets).map(([name, create]) => [name, create(platform)]));
  const scheduler = new SchedulerLoop(platform, targets);
  if (options.background !== false) {
    pollers.forEach((poller) => poller.start());
    scheduler.start();
  }

  return {
    url,
    platform,
    queueUrls: Object.fromEntries(Object.entries(queues).map(([name, queue]) => [name, queue.url])) as Record<QueueName, string>,
    sqs,
    scheduler,
    stop: async () => {
      await Promise.all([...pollers.map((poller) => poller.stop()), scheduler.stop()]);
      await closeServer(gateway.server);
      await platform.db.end();
      sqs.destroy();
    },
  };
}

async function createQueues(sqs: SQSClient, prefix: string): Promise<Record<QueueName, { url: string; arn: string }>> {
  const result = {} as Record<QueueName, { url: string; arn: string }>;
  for (const queue of localQueues) {
    const suffix = queue.fifo ? '.fifo' : '';
    const fifoAttributes: Record<string, string> = queue.fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {};
    const dlq = await createQueue(sqs, `${prefix}${queue.name}-dlq${suffix}`, { ...fifoAttributes, MessageRetentionPeriod: '1209600' });
    result[queue.name] = await createQueue(sqs, `${prefix}${queue.name}${suffix}`, {
      ...fifoAttributes,
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
      MessageRetentionPeriod: '1209600',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: queue.maxReceiveCount }),
    });
  }
  return result;
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl ?? '';
  const described = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url, arn: described.Attributes?.QueueArn ?? '' };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
