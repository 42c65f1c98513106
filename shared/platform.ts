import { SQSClient } from '@aws-sdk/client-sqs';
import type { Pool } from 'pg';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { readConfig, type PlatformConfig } from './config';
import { AppError } from './errors';
import { EmfMetrics } from './adapters/aws/emf-metrics';
import { EventBridgeScheduler } from './adapters/aws/eventbridge-scheduler';
import { SecretsManagerSecrets } from './adapters/aws/secrets-manager';
import { EndUserMessagingSmsChannel, noViberProvider } from './adapters/aws/end-user-messaging-sms-channel';
import { SesChannel } from './adapters/aws/ses-channel';
import { SqsQueue } from './adapters/aws/sqs-queue';
import { EncryptedTableSecrets } from './adapters/local/encrypted-secrets';
import { MemoryMetrics } from './adapters/local/memory-metrics';
import { localSqsClient } from './adapters/aws/local-sqs-client';
import { HttpViberChannel } from './adapters/local/http-viber-channel';
import { TableScheduler } from './adapters/local/table-scheduler';
import { SmtpChannels } from './adapters/smtp/smtp-channel';
import type { ChannelRoute, EmailChannel, EmailChannels } from './ports/email-channel';
import { systemClock, type Clock } from './ports/clock';
import type { Metrics } from './ports/metrics';
import type { Queue } from './ports/queue';
import type { Scheduler } from './ports/scheduler';
import type { Secrets } from './ports/secrets';
import type { TextChannels } from './ports/text-channel';
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
}

export interface PlatformOverrides {
  readonly clock?: Clock;
  readonly metrics?: Metrics;
}

const unboundScheduler: Scheduler = {
  upsert: () => Promise.reject(new AppError('unavailable', 'SCHEDULER_NOT_BOUND', 'this function may not manage schedules')),
  delete: () => Promise.reject(new AppError('unavailable', 'SCHEDULER_NOT_BOUND', 'this function may not manage schedules')),
};

export async function createPlatform(config: PlatformConfig, overrides: PlatformOverrides = {}): Promise<Platform> {
  const clock = overrides.clock ?? systemClock;
  const sqs =
    config.runtime === 'local' && config.sqsEndpoint
      ? localSqsClient(config.sqsEndpoint)
      : new SQSClient({
          region: config.region,
          // Resolves each command's middleware once instead of on every call (about a quarter of
          // the client's CPU per call); nothing here changes the middleware stack after creation.
          cacheMiddleware: true,
          ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
        });
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
      emailChannels: emailChannelsFor(config),
      textChannels: textChannelsFor(config),
    };
  }

  const secrets = new SecretsManagerSecrets(new SecretsManagerClient({ region: config.region }), config.secretsPrefix);
  const db = await createPool(config.database, secrets, config.databasePoolSize);
  const scheduler =
    config.schedulerGroup && config.schedulerRoleArn
      ? new EventBridgeScheduler(
          new SchedulerClient({ region: config.region }),
          config.schedulerGroup,
          config.schedulerRoleArn,
          config.schedulerTargets,
        )
      : unboundScheduler;
  return {
    config,
    db,
    queue,
    secrets,
    scheduler,
    clock,
    metrics: overrides.metrics ?? new EmfMetrics(),
    emailChannels: emailChannelsFor(config),
    textChannels: textChannelsFor(config),
  };
}

/** SES through one client (created on first use), SMTP through pooled transports per relay. */
function emailChannelsFor(config: PlatformConfig): EmailChannels {
  const smtp = new SmtpChannels();
  let ses: EmailChannel | undefined;
  return {
    open: (route: ChannelRoute) => {
      if (route.kind === 'smtp') return smtp.open(route);
      ses ??= new SesChannel(
        new SESv2Client({
          region: config.region,
          ...(config.email.sesEndpoint
            ? { endpoint: config.email.sesEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
            : {}),
        }),
        config.email.sesConfigurationSet,
      );
      return ses;
    },
    close: () => smtp.close(),
  };
}

/** SMS through AWS End User Messaging (the local sink speaks its wire format); Viber through the configured endpoint, if any. */
function textChannelsFor(config: PlatformConfig): TextChannels {
  const client = new PinpointSMSVoiceV2Client({
    region: config.region,
    // One try per hand-over: the texts queue retries with its own spaced backoff.
    maxAttempts: 1,
    ...(config.text.smsEndpoint ? { endpoint: config.text.smsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  return {
    sms: new EndUserMessagingSmsChannel(client, config.text.smsConfigurationSet),
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
