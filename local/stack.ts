import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Server } from 'node:http';
import path from 'node:path';
import { consoleFiles } from '../console/build';
import { createHandler as createApiHandler } from '../functions/api/handler';
import { queueUrlVariables, readConfig } from '../shared/config';
import { logger } from '../shared/logger';
import { requeueUnfinishedImports } from '../shared/contacts/bulk-import';
import { emailSends, requeueStalledSends } from '../shared/email/send-sweep';
import { textSends } from '../shared/messages/deliver-texts';
import { requeueActiveRuns } from '../shared/exports/runs';
import { requeueActiveBroadcasts } from '../shared/messages/broadcasts';
import { createPlatform, type Platform } from '../shared/platform';
import type { Clock } from '../shared/ports/clock';
import { migrate } from '../shared/store/migrate';
import { stopRenderThreads } from '../shared/templates/render-pool';
import { requeueTriggerEventPages } from '../shared/trigger-events/assemble';
import { requeueWebhookOutboxes } from '../shared/webhooks/outbox';
import { migrations } from '../shared/store/migrations';
import { QUEUE_RETENTION_DAYS, type QueueName } from '../shared/topology';
import { createLocalFunctions, type LocalQueueAddresses } from './functions';
import { startHttpGateway } from './http-gateway';
import type { SchedulerLoop } from './scheduler-loop';
import { startServiceProcess, type ServiceProcess } from './service-process';
import { localSqsClient } from '../shared/adapters/aws/local-sqs-client';
import { localFixedSchedules, localQueues } from './topology';

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

/** The local stack with its functions in a process of their own (see `startLocalRuntime`). */
export type LocalRuntimeOptions = Omit<LocalStackOptions, 'clock' | 'background'>;

export interface LocalRuntime {
  readonly url: string;
  readonly platform: Platform;
  stop(): Promise<void>;
}

export interface LocalStack extends LocalRuntime {
  readonly queueUrls: Readonly<Record<QueueName, string>>;
  readonly sqs: SQSClient;
  readonly scheduler: SchedulerLoop;
}

/**
 * The whole stack in this process: migrations, the HTTP API behind a local API Gateway,
 * SQS queues (with dead-letter queues) and their consumers, and the schedules. Tests use it
 * so they can drive the consumers and the scheduler by hand and share a fake clock.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const api = await startLocalApi(options, options.clock);
  const functions = createLocalFunctions(api.platform, options.sqsEndpoint, api.queues);
  if (options.background !== false) functions.start();
  return {
    url: api.url,
    platform: api.platform,
    queueUrls: Object.fromEntries(Object.entries(api.queues).map(([name, queue]) => [name, queue.url])) as Record<QueueName, string>,
    sqs: api.sqs,
    scheduler: functions.scheduler,
    stop: async () => {
      await functions.stop();
      await api.stop();
    },
  };
}

/**
 * The stack as `npm start` and the benches run it: the API in this process, the queue
 * consumers and scheduled functions in a child process of their own (`functions-process.ts`),
 * as Lambda runs them apart from the API, so delivery never waits on the API's event loop.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const api = await startLocalApi(options);
  let functions: ServiceProcess;
  try {
    functions = await startServiceProcess(path.join(__dirname, 'functions-process.ts'), [JSON.stringify(api.queues)], api.environment);
  } catch (error) {
    await api.stop();
    throw error;
  }
  // Their log lines, after the line that said they are ready.
  functions.lines.on('line', (line) => process.stdout.write(`${line}\n`));
  let stopping = false;
  void functions.exited.then(() => {
    if (!stopping) logger.error('the local functions process stopped: queues are no longer consumed (see its error above)');
  });
  return {
    url: api.url,
    platform: api.platform,
    stop: async () => {
      stopping = true;
      await functions.stop();
      await api.stop();
    },
  };
}

interface LocalApi {
  readonly url: string;
  readonly platform: Platform;
  readonly sqs: SQSClient;
  readonly queues: LocalQueueAddresses;
  /** The platform's configuration as environment variables, as a Lambda of the stack gets it. */
  readonly environment: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** Queues, migrations, fixed schedules and the HTTP API: everything but the functions. */
async function startLocalApi(options: LocalRuntimeOptions, clock?: Clock): Promise<LocalApi> {
  const sqs = localSqsClient(options.sqsEndpoint);
  const queues = await createQueues(sqs, options.queuePrefix);

  // The gateway listens first, so the API's own URL (PUBLIC_BASE_URL, the OAuth issuer) is the
  // address it really got; requests wait for the platform, which is ready once migrated.
  let platformReady: (platform: Platform) => void = () => undefined;
  const ready = new Promise<Platform>((resolve) => (platformReady = resolve));
  const gateway = await startHttpGateway(
    createApiHandler(() => ready),
    options.port,
    undefined,
    await consoleFiles(),
  );
  const environment: Record<string, string> = {
    SATELLITE_RUNTIME: 'local',
    DATABASE_URL: options.databaseUrl,
    SQS_ENDPOINT: options.sqsEndpoint,
    SATELLITE_SECRETS_KEY: options.secretsKey,
    PUBLIC_BASE_URL: gateway.url,
    ...options.env,
  };
  for (const queue of localQueues) environment[queueUrlVariables[queue.name]] = queues[queue.name].url;
  let platform: Platform;
  try {
    platform = await createPlatform(readConfig({ ...process.env, ...environment }), { clock });
  } catch (error) {
    await closeServer(gateway.server);
    sqs.destroy();
    throw error;
  }
  try {
    await migrate(platform.db, migrations);
    for (const schedule of localFixedSchedules) await platform.scheduler.upsert(schedule);
    await requeueWhatTheQueuesLost(platform);
  } catch (error) {
    await closeServer(gateway.server);
    await platform.db.end();
    sqs.destroy();
    throw error;
  }
  platformReady(platform);
  return {
    url: gateway.url,
    platform,
    sqs,
    queues,
    environment,
    stop: async () => {
      await closeServer(gateway.server);
      await platform.emailChannels.close();
      await platform.db.end();
      sqs.destroy();
      await stopRenderThreads();
    },
  };
}

/**
 * The local SQS server keeps messages in memory only, so the queues start empty: what the
 * database says was queued (by the last run, or before a crash) went with the last server.
 * It is queued again before any consumer starts; on AWS the queues are durable.
 */
async function requeueWhatTheQueuesLost(platform: Platform): Promise<void> {
  const requeued = {
    webhookActivities: await requeueWebhookOutboxes(platform),
    imports: await requeueUnfinishedImports(platform),
    exportRuns: await requeueActiveRuns(platform),
    broadcasts: await requeueActiveBroadcasts(platform),
    triggerEventPages: await requeueTriggerEventPages(platform),
    emailSends: await requeueStalledSends(platform, emailSends, { everyDue: true }),
    textSends: await requeueStalledSends(platform, textSends, { everyDue: true }),
  };
  if (Object.values(requeued).some((count) => count > 0)) logger.info('queued again what the last run left in its queues', requeued);
}

async function createQueues(sqs: SQSClient, prefix: string): Promise<LocalQueueAddresses> {
  const result = {} as Record<QueueName, { url: string; arn: string }>;
  const retention = String(QUEUE_RETENTION_DAYS * 24 * 3600);
  for (const queue of localQueues) {
    const suffix = queue.fifo ? '.fifo' : '';
    const fifoAttributes: Record<string, string> = queue.fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {};
    const dlq = await createQueue(sqs, `${prefix}${queue.name}-dlq${suffix}`, { ...fifoAttributes, MessageRetentionPeriod: retention });
    result[queue.name] = await createQueue(sqs, `${prefix}${queue.name}${suffix}`, {
      ...fifoAttributes,
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
      MessageRetentionPeriod: retention,
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
