import { SQSClient } from '@aws-sdk/client-sqs';
import type { Pool } from 'pg';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readConfig, type PlatformConfig } from './config';
import { AppError } from './errors';
import { EmfMetrics } from './adapters/aws/emf-metrics';
import { SecretsManagerSecrets } from './adapters/aws/secrets-manager';
import { SqsQueue } from './adapters/aws/sqs-queue';
import { EncryptedTableSecrets } from './adapters/local/encrypted-secrets';
import { MemoryMetrics } from './adapters/local/memory-metrics';
import { localSqsClient } from './adapters/aws/local-sqs-client';
import { HttpViberChannel } from './adapters/local/http-viber-channel';
import { TableScheduler } from './adapters/local/table-scheduler';
import { emailChannelsOnFirstUse, eventBridgeSchedulerOnFirstUse, smsChannelOnFirstUse } from './adapters/on-first-use';
import type { EmailChannels } from './ports/email-channel';
import { systemClock, type Clock } from './ports/clock';
import type { Metrics } from './ports/metrics';
import type { Queue } from './ports/queue';
import type { Scheduler } from './ports/scheduler';
import type { Secrets } from './ports/secrets';
import { noTracing, type Tracing } from './ports/tracing';
import type { TextChannel, TextChannels } from './ports/text-channel';
import { createPool } from './store/pool';

/** Everything domain code may use, behind ports. Built once per function instance. */
export interface Platform {
  readonly config: PlatformConfig;
  readonly db: Pool;
  readonly queue: Queue;
  readonly secrets: Secrets;
  readonly scheduler: Scheduler;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly emailChannels: EmailChannels;
  readonly textChannels: TextChannels;
  /** X-Ray on AWS (AWS SDK calls and store statements are traced already); nothing locally. */
  readonly tracing: Tracing;
}

export interface PlatformOverrides {
  readonly clock?: Clock;
  readonly metrics?: Metrics;
}

const unboundScheduler: Scheduler = {
  upsert: () => Promise.reject(new AppError('unavailable', 'SCHEDULER_NOT_BOUND', 'this function may not manage schedules')),
  delete: () => Promise.reject(new AppError('unavailable', 'SCHEDULER_NOT_BOUND', 'this function may not manage schedules')),
};

/**
 * X-Ray on AWS, imported here rather than at module load: local runs and tests never load the
 * X-Ray SDK (it installs an async hook on load), and a deployed function pays its load
 * (about 15 ms) with the rest of the platform, at the first invocation.
 */
async function tracingFor(config: PlatformConfig): Promise<Tracing> {
  if (config.runtime === 'local') return noTracing;
  const { XRayTracing } = await import('./adapters/aws/xray-tracing.js');
  return new XRayTracing();
}

export async function createPlatform(config: PlatformConfig, overrides: PlatformOverrides = {}): Promise<Platform> {
  const clock = overrides.clock ?? systemClock;
  const tracing = await tracingFor(config);
  const sqs =
    config.runtime === 'local' && config.sqsEndpoint
      ? localSqsClient(config.sqsEndpoint)
      : tracing.instrumentAwsClient(
          new SQSClient({
            region: config.region,
            // Resolves each command's middleware once instead of on every call (about a quarter of
            // the client's CPU per call); nothing here changes the middleware stack after creation.
            cacheMiddleware: true,
            ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
          }),
        );
  const queue = new SqsQueue(sqs, config.queueUrls);

  if (config.runtime === 'local') {
    if (config.database.kind !== 'url') throw new AppError('unavailable', 'CONFIG_INVALID', 'the local runtime needs DATABASE_URL');
    const db = await createPool(config.database, rejectSecretLookup, config.databasePoolSize);
    return {
      config,
      db,
      queue,
      secrets: new EncryptedTableSecrets(db, config.localSecretsKey ?? ''),
      scheduler: new TableScheduler(db, clock),
      clock,
      metrics: overrides.metrics ?? new MemoryMetrics(),
      emailChannels: emailChannelsOnFirstUse(config, tracing),
      textChannels: textChannelsFor(config, tracing),
      tracing,
    };
  }

  const secrets = new SecretsManagerSecrets(tracing.instrumentAwsClient(new SecretsManagerClient({ region: config.region })), config.secretsPrefix);
  const db = await createPool(config.database, secrets, config.databasePoolSize, tracing);
  const scheduler =
    config.schedulerGroup && config.schedulerRoleArn
      ? eventBridgeSchedulerOnFirstUse(config, config.schedulerGroup, config.schedulerRoleArn, tracing)
      : unboundScheduler;
  return {
    config,
    db,
    queue,
    secrets,
    scheduler,
    clock,
    metrics: overrides.metrics ?? new EmfMetrics(),
    emailChannels: emailChannelsOnFirstUse(config, tracing),
    textChannels: textChannelsFor(config, tracing),
    tracing,
  };
}

/** Viber where the stack has no Viber provider: every send fails for good, saying so. */
const noViberProvider: TextChannel = {
  send: async () => ({
    kind: 'rejected',
    permanent: true,
    throttled: false,
    recipientRejected: false,
    description: 'this stack has no Viber provider (VIBER_API_ENDPOINT is not set)',
  }),
};

/** SMS through AWS End User Messaging; Viber through the configured endpoint, if any. */
function textChannelsFor(config: PlatformConfig, tracing: Tracing): TextChannels {
  return {
    sms: smsChannelOnFirstUse(config, tracing),
    viber: config.text.viberEndpoint ? new HttpViberChannel(config.text.viberEndpoint) : noViberProvider,
  };
}

const rejectSecretLookup: Secrets = {
  put: () => Promise.reject(new Error('no secret store before the database')),
  get: () => Promise.reject(new Error('no secret store before the database')),
  delete: () => Promise.reject(new Error('no secret store before the database')),
};

let fromEnvironment: Promise<Platform> | undefined;

/** The platform of a deployed function, built from its environment on first use. */
export function platformFromEnvironment(): Promise<Platform> {
  fromEnvironment ??= createPlatform(readConfig()).catch((error: unknown) => {
    fromEnvironment = undefined;
    throw error;
  });
  return fromEnvironment;
}
