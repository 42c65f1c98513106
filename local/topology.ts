import { createHandler as createAssembleTriggerEventsHandler } from '../functions/assemble-trigger-events/handler';
import { createHandler as createDeliverWebhooksHandler } from '../functions/deliver-webhooks/handler';
import { createHandler as createDispatchExportsHandler } from '../functions/dispatch-exports/handler';
import { createHandler as createExportDatasetHandler } from '../functions/export-dataset/handler';
import { createHandler as createImportContactsHandler } from '../functions/import-contacts/handler';
import { createHandler as createPruneWebhookAttemptsHandler } from '../functions/prune-webhook-attempts/handler';
import { createHandler as createRelayWebhookOutboxHandler } from '../functions/relay-webhook-outbox/handler';
import { createHandler as createSendBroadcastHandler } from '../functions/send-broadcast/handler';
import { createHandler as createEmailEventsHandler } from '../functions/email-events/handler';
import { createHandler as createSendEmailHandler } from '../functions/send-email/handler';
import { createHandler as createSweepEmailSendsHandler } from '../functions/sweep-email-sends/handler';
import type { QueueName } from '../shared/config';
import type { Platform } from '../shared/platform';
import type { ScheduleDefinition } from '../shared/ports/scheduler';
import type { ScheduledFunction } from '../shared/schedules/event';
import type { SqsConsumer } from './sqs-poller';

/**
 * The queues, consumers and schedule targets of the stack, as the local runtime runs them.
 * Each mirrors a construct in `infra/constructs/`; consumers are the deployed handlers.
 */
export interface LocalQueue {
  readonly name: QueueName;
  readonly fifo: boolean;
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the queue's dead-letter queue. */
  readonly maxReceiveCount: number;
  readonly functionName: string;
  readonly timeoutMs: number;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly consumer?: (platform: Platform) => SqsConsumer;
}

export const localQueues: readonly LocalQueue[] = [
  {
    name: 'imports',
    fifo: false,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    functionName: 'import-contacts',
    timeoutMs: 300_000,
    batchSize: 1,
    concurrency: 2,
    consumer: (platform) => createImportContactsHandler(platform),
  },
  {
    name: 'exports',
    fifo: false,
    visibilityTimeoutSeconds: 960,
    maxReceiveCount: 5,
    functionName: 'export-dataset',
    timeoutMs: 900_000,
    batchSize: 1,
    concurrency: 2,
    consumer: (platform) => createExportDatasetHandler(platform),
  },
  {
    name: 'webhooks',
    fifo: true,
    visibilityTimeoutSeconds: 60,
    maxReceiveCount: 1000,
    functionName: 'deliver-webhooks',
    timeoutMs: 30_000,
    batchSize: 10,
    concurrency: 2,
    consumer: (platform) => createDeliverWebhooksHandler(platform),
  },
  {
    name: 'triggerEvents',
    fifo: false,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    functionName: 'assemble-trigger-events',
    timeoutMs: 300_000,
    batchSize: 1,
    concurrency: 2,
    consumer: (platform) => createAssembleTriggerEventsHandler(platform),
  },
  {
    name: 'broadcasts',
    fifo: false,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    functionName: 'send-broadcast',
    timeoutMs: 300_000,
    batchSize: 1,
    concurrency: 2,
    consumer: (platform) => createSendBroadcastHandler(platform),
  },
  {
    name: 'emails',
    fifo: false,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    functionName: 'send-email',
    timeoutMs: 60_000,
    batchSize: 1,
    concurrency: 4,
    consumer: (platform) => createSendEmailHandler(platform),
  },
  {
    // Fed by SES through SNS in the stack; locally only tests put events on it.
    name: 'emailEvents',
    fifo: false,
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
    functionName: 'email-events',
    timeoutMs: 30_000,
    batchSize: 10,
    concurrency: 1,
    consumer: (platform) => createEmailEventsHandler(platform),
  },
];

/** Scheduled functions by target name (the `target` of a `ScheduleDefinition`). */
export const localScheduleTargets: Readonly<Record<string, (platform: Platform) => ScheduledFunction>> = {
  exports: (platform) => createDispatchExportsHandler(platform),
  triggerEvents: (platform) => createAssembleTriggerEventsHandler(platform) as ScheduledFunction,
  webhookOutbox: (platform) => createRelayWebhookOutboxHandler(platform),
  webhookAttempts: (platform) => createPruneWebhookAttemptsHandler(platform),
  emailSweep: (platform) => createSweepEmailSendsHandler(platform),
};

/** Schedules that exist for the life of the stack (EventBridge rules in `infra/`). */
export const localFixedSchedules: readonly ScheduleDefinition[] = [
  { name: 'webhook-outbox-sweep', expression: 'rate(1 minute)', target: 'webhookOutbox', detail: {}, enabled: true },
  { name: 'webhook-attempts-prune', expression: 'rate(1 hour)', target: 'webhookAttempts', detail: {}, enabled: true },
  { name: 'email-send-sweep', expression: 'rate(1 minute)', target: 'emailSweep', detail: {}, enabled: true },
];
