/**
 * The stack's wiring, declared once: every queue with the function consuming it, every
 * schedule target and every schedule that lives as long as the stack. The CDK constructs
 * (`infra/constructs/`) and the local runtime (`local/topology.ts`) both build from it, and
 * handlers read the values they depend on from it; `test/infra/topology.test.ts` synthesises
 * the stack and starts the local runtime and checks they agree.
 */

export type QueueName = 'imports' | 'exports' | 'webhooks' | 'triggerEvents' | 'broadcasts' | 'emails' | 'emailEvents' | 'texts';

export interface QueueTopology {
  readonly name: QueueName;
  /** Folder under `functions/` whose handler consumes the queue. */
  readonly worker: string;
  /** The worker function's timeout (Lambda's, and the local consumer's time budget). */
  readonly workerTimeoutSeconds: number;
  readonly fifo: boolean;
  /** Records per invocation. */
  readonly batchSize: number;
  /** Receives before a message moves to the queue's dead-letter queue. */
  readonly maxReceiveCount: number;
  /**
   * The oldest-message alarm fires when a message has waited longer than this. None on the
   * webhooks queue: a customer's failing endpoint keeps its messages there in backoff by design,
   * so its age says nothing about the platform; delivery lag (`promiseAlarms`) watches it instead.
   */
  readonly maxMessageAgeSeconds?: number;
  /**
   * Most invocations of the worker at once (the event source's maximum concurrency), so that
   * workers together stay within the database connections set aside for them (`connectionBudget`).
   */
  readonly maxConcurrency: number;
}

const MINUTE = 60;
const HOUR = 3600;

export const queues: { readonly [N in QueueName]: QueueTopology & { readonly name: N } } = {
  imports: {
    name: 'imports',
    worker: 'import-contacts',
    workerTimeoutSeconds: 5 * MINUTE,
    fifo: false,
    batchSize: 1,
    maxReceiveCount: 5,
    maxConcurrency: 4,
    maxMessageAgeSeconds: 30 * MINUTE,
  },
  exports: {
    name: 'exports',
    worker: 'export-dataset',
    workerTimeoutSeconds: 15 * MINUTE,
    fifo: false,
    batchSize: 1,
    maxReceiveCount: 6,
    maxConcurrency: 5,
    maxMessageAgeSeconds: 6 * HOUR,
  },
  webhooks: {
    name: 'webhooks',
    worker: 'deliver-webhooks',
    // One HTTP attempt (10 s) per batch plus bookkeeping.
    workerTimeoutSeconds: 30,
    // Grouped by account: strict per-account order (seed 001).
    fifo: true,
    batchSize: 10,
    // Retries are visibility changes on the message itself; the dead-letter queue only
    // catches what the dispatcher could never handle.
    maxReceiveCount: 1000,
    maxConcurrency: 10,
  },
  triggerEvents: {
    name: 'triggerEvents',
    worker: 'assemble-trigger-events',
    workerTimeoutSeconds: 5 * MINUTE,
    fifo: false,
    batchSize: 1,
    maxReceiveCount: 5,
    maxConcurrency: 3,
    maxMessageAgeSeconds: HOUR,
  },
  broadcasts: {
    name: 'broadcasts',
    worker: 'send-broadcast',
    workerTimeoutSeconds: 5 * MINUTE,
    fifo: false,
    batchSize: 1,
    maxReceiveCount: 5,
    maxConcurrency: 3,
    maxMessageAgeSeconds: 30 * MINUTE,
  },
  emails: {
    name: 'emails',
    worker: 'send-email',
    // Up to 100 sends handed to SES or an SMTP relay, at the account's rate.
    workerTimeoutSeconds: MINUTE,
    fifo: false,
    batchSize: 1,
    maxReceiveCount: 5,
    maxConcurrency: 3,
    maxMessageAgeSeconds: 30 * MINUTE,
  },
  emailEvents: {
    name: 'emailEvents',
    worker: 'email-events',
    // Fed by SES through SNS in the stack; locally only tests put events on it.
    workerTimeoutSeconds: 30,
    fifo: false,
    batchSize: 10,
    maxReceiveCount: 5,
    // Lambda's smallest maximum concurrency for an SQS event source.
    maxConcurrency: 2,
    maxMessageAgeSeconds: 30 * MINUTE,
  },
  texts: {
    name: 'texts',
    worker: 'send-texts',
    // Up to 100 SMS or Viber messages handed to their provider, 8 at a time.
    workerTimeoutSeconds: MINUTE,
    fifo: false,
    batchSize: 1,
    // Retries of a refused text are new, delayed messages (the email schedule); the
    // dead-letter queue only catches jobs the worker itself could not finish.
    maxReceiveCount: 5,
    maxConcurrency: 2,
    maxMessageAgeSeconds: 30 * MINUTE,
  },
};

export const queueList: readonly QueueTopology[] = Object.values(queues);

/**
 * A received message stays invisible six times as long as its worker may run (AWS's advice
 * for Lambda event sources), so it is never handed out twice while it is still being worked on.
 */
export function visibilityTimeoutSeconds(queue: QueueTopology): number {
  return queue.workerTimeoutSeconds * 6;
}

/** How long SQS keeps a message, on every queue and dead-letter queue. */
export const QUEUE_RETENTION_DAYS = 14;

/** Alarms on every queue: any dead-lettered message, and an old message for three periods running. */
export const queueAlarms = {
  periodSeconds: 5 * MINUTE,
  deadLettersAbove: 0,
  oldestMessageEvaluationPeriods: 3,
} as const;

/**
 * Alarms on the seeds' promises, fed by the platform's own metrics (`shared/ports/metrics.ts`).
 * Webhook lag is measured on lanes not in backoff, so one customer's dead endpoint does not page anyone.
 */
export const promiseAlarms = {
  periodSeconds: 5 * MINUTE,
  /** Seed 001 promises near-real-time delivery: p99 commit → 200 above this for three periods. */
  webhookLagSeconds: 10 * MINUTE,
  webhookLagEvaluationPeriods: 3,
  /** Any endpoint parked (it failed for 13 days): someone should tell the customer. */
  webhookSuspensionsAbove: 0,
  /** Any export run that failed for good, or any dataset still not exported when its next interval fired. */
  exportFailuresAbove: 0,
  exportOverdueAbove: 0,
} as const;

/**
 * Database connections through RDS Proxy, shared out so that queue workers can never take the
 * API's. Each function instance holds at most `poolSize` connections (`DB_POOL_SIZE`); the
 * proxy lends at most its `maxConnectionsPercent` of PostgreSQL's `max_connections`.
 * `test/infra/capacity.test.ts` checks the workers' `maxConcurrency` fits `workers`.
 */
export const connectionBudget = {
  /** Connections per function instance (the pg pool size on AWS). */
  poolSize: 2,
  /** Connections the workers together may hold: sum of maxConcurrency × poolSize. */
  workers: 70,
  /** Connections kept for the API and the small scheduled functions. */
  api: 100,
  /** Reserved concurrency of the API function: the account's other functions can never starve it. */
  apiReservedConcurrency: 50,
} as const;

/**
 * Functions that schedules fire, by the target name schedules carry: `exports` and
 * `triggerEvents` get a schedule per export or workflow at run time (the scheduler port),
 * the others are fired by `fixedSchedules`.
 */
export type ScheduleTargetName = 'exports' | 'triggerEvents' | 'webhookOutbox' | 'webhookAttempts' | 'sendSweep';

export interface ScheduleTargetTopology {
  /** Folder under `functions/`. */
  readonly worker: string;
  readonly timeoutSeconds: number;
}

export const scheduleTargets: { readonly [T in ScheduleTargetName]: ScheduleTargetTopology } = {
  exports: { worker: 'dispatch-exports', timeoutSeconds: MINUTE },
  triggerEvents: { worker: queues.triggerEvents.worker, timeoutSeconds: queues.triggerEvents.workerTimeoutSeconds },
  webhookOutbox: { worker: 'relay-webhook-outbox', timeoutSeconds: MINUTE },
  webhookAttempts: { worker: 'prune-webhook-attempts', timeoutSeconds: 5 * MINUTE },
  sendSweep: { worker: 'sweep-sends', timeoutSeconds: MINUTE },
};

export interface FixedSchedule {
  readonly name: string;
  /** EventBridge's `rate(...)` / `cron(...)` syntax, as both runtimes read it. */
  readonly expression: string;
  readonly target: ScheduleTargetName;
}

/** Schedules that exist for the life of the stack (no retry: the next run catches up). */
export const fixedSchedules: readonly FixedSchedule[] = [
  // The safety net for a relay that failed after its activities were committed.
  { name: 'webhook-outbox-sweep', expression: 'rate(1 minute)', target: 'webhookOutbox' },
  // Delivery attempts are kept for WEBHOOK_ATTEMPT_RETENTION_DAYS.
  { name: 'webhook-attempts-prune', expression: 'rate(1 hour)', target: 'webhookAttempts' },
  // Queues again email, SMS and Viber sends whose queue message was lost, and closes claims a
  // crashed worker left. Named when it swept email only: local stacks keep their schedule by name.
  { name: 'email-send-sweep', expression: 'rate(1 minute)', target: 'sendSweep' },
];

/**
 * "Check connection" runs in its own function (`functions/validate-connector`): on AWS the
 * HTTP API routes these paths there; locally the API serves them.
 */
export const connectorValidationPaths = {
  unsaved: '/api/v1/connectors/validate',
  saved: '/api/v1/connectors/{id}/validate',
} as const;
