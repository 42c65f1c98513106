import type { QueueName } from '../shared/topology';
import type { Platform } from '../shared/platform';
import { SchedulerLoop } from './scheduler-loop';
import { SqsPoller } from './sqs-poller';
import { localQueues, localScheduleTargets } from './topology';

/** The queues as created on the SQS server: what a process needs to consume them. */
export type LocalQueueAddresses = Readonly<Record<QueueName, { url: string; arn: string }>>;

export interface LocalFunctions {
  readonly scheduler: SchedulerLoop;
  start(): void;
  stop(): Promise<void>;
}

/** What Lambda's event source mappings and EventBridge Scheduler do: the queue pollers and the scheduler loop. */
export function createLocalFunctions(platform: Platform, sqsEndpoint: string, queues: LocalQueueAddresses): LocalFunctions {
  const pollers = localQueues.map(
    (queue) =>
      new SqsPoller({
        endpoint: sqsEndpoint,
        queueUrl: queues[queue.name].url,
        queueArn: queues[queue.name].arn,
        functionName: queue.worker,
        consumer: queue.consumer(platform),
        batchSize: queue.batchSize,
        timeoutMs: queue.workerTimeoutSeconds * 1000,
        concurrency: queue.concurrency,
      }),
  );
  const targets = Object.entries(localScheduleTargets);
  const scheduler = new SchedulerLoop(
    platform,
    Object.fromEntries(targets.map(([name, target]) => [name, target.create(platform)])),
    undefined,
    Object.fromEntries(targets.map(([name, target]) => [name, target.timeoutSeconds * 1000])),
  );
  return {
    scheduler,
    start: () => {
      pollers.forEach((poller) => poller.start());
      scheduler.start();
    },
    stop: async () => {
      await Promise.all([...pollers.map((poller) => poller.stop()), scheduler.stop()]);
    },
  };
}
