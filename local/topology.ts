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
import { createHandler as createSweepSendsHandler } from '../functions/sweep-sends/handler';
import { createHandler as createSendTextsHandler } from '../functions/send-texts/handler';
import type { Platform } from '../shared/platform';
import type { ScheduleDefinition } from '../shared/ports/scheduler';
import type { ScheduledFunction } from '../shared/schedules/event';
import {
  fixedSchedules,
  queueList,
  scheduleTargets,
  visibilityTimeoutSeconds,
  type QueueName,
  type QueueTopology,
  type ScheduleTargetName,
  type ScheduleTargetTopology,
} from '../shared/topology';
import type { SqsConsumer } from './sqs-poller';

/**
 * The stack of `shared/topology.ts` as the local runtime runs it: the same queues, consumers,
 * schedule targets and fixed schedules; only the handler behind each function folder and the
 * number of parallel receive loops are local facts.
 */
export interface LocalQueue extends QueueTopology {
  readonly visibilityTimeoutSeconds: number;
  /** Parallel receive loops: Lambda's concurrency for this event source. */
  readonly concurrency: number;
  readonly consumer: (platform: Platform) => SqsConsumer;
}

const LOCAL_CONCURRENCY = 2;

/** The deployed handler of each queue's worker, by queue. */
const queueConsumers: { readonly [N in QueueName]: (platform: Platform) => SqsConsumer } = {
  imports: (platform) => createImportContactsHandler(platform),
  exports: (platform) => createExportDatasetHandler(platform),
  webhooks: (platform) => createDeliverWebhooksHandler(platform),
  triggerEvents: (platform) => createAssembleTriggerEventsHandler(platform),
  broadcasts: (platform) => createSendBroadcastHandler(platform),
  emails: (platform) => createSendEmailHandler(platform),
  emailEvents: (platform) => createEmailEventsHandler(platform),
  texts: (platform) => createSendTextsHandler(platform),
};

export const localQueues: readonly LocalQueue[] = queueList.map((queue) => ({
  ...queue,
  visibilityTimeoutSeconds: visibilityTimeoutSeconds(queue),
  concurrency: LOCAL_CONCURRENCY,
  consumer: queueConsumers[queue.name],
}));

export interface LocalScheduleTarget extends ScheduleTargetTopology {
  readonly create: (platform: Platform) => ScheduledFunction;
}

const scheduledHandlers: { readonly [T in ScheduleTargetName]: (platform: Platform) => ScheduledFunction } = {
  exports: (platform) => createDispatchExportsHandler(platform),
  triggerEvents: (platform) => createAssembleTriggerEventsHandler(platform) as ScheduledFunction,
  webhookOutbox: (platform) => createRelayWebhookOutboxHandler(platform),
  webhookAttempts: (platform) => createPruneWebhookAttemptsHandler(platform),
  sendSweep: (platform) => createSweepSendsHandler(platform),
};

/** Scheduled functions by target name (the `target` of a `ScheduleDefinition`). */
export const localScheduleTargets: Readonly<Record<ScheduleTargetName, LocalScheduleTarget>> = Object.fromEntries(
  (Object.keys(scheduleTargets) as ScheduleTargetName[]).map((name) => [name, { ...scheduleTargets[name], create: scheduledHandlers[name] }]),
) as Record<ScheduleTargetName, LocalScheduleTarget>;

/** Schedules that exist for the life of the stack (EventBridge rules on AWS), as rows of the local scheduler. */
export const localFixedSchedules: readonly ScheduleDefinition[] = fixedSchedules.map((schedule) => ({ ...schedule, detail: {}, enabled: true }));
