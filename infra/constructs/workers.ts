import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import type { SatelliteDatabase } from './database';
import { SatelliteFunction } from './satellite-function';
import { SatelliteQueue } from './satellite-queue';

export interface QueueWorkerProps {
  readonly database: SatelliteDatabase;
  readonly functionDir: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly fifo?: boolean;
  readonly batchSize: number;
  readonly maxReceiveCount: number;
  readonly maxMessageAge: Duration;
  readonly maxConcurrency?: number;
}

/**
 * A queue, its dead-letter queue and the Lambda consuming it with partial batch responses.
 * The visibility timeout outlasts the function so a message is never handed out twice while
 * it is still being worked on.
 */
export function queueWorker(scope: Construct, id: string, props: QueueWorkerProps): { queue: SatelliteQueue; worker: SatelliteFunction } {
  const queue = new SatelliteQueue(scope, `${id}Queue`, {
    fifo: props.fifo,
    visibilityTimeout: Duration.seconds(props.timeout.toSeconds() * 6),
    maxReceiveCount: props.maxReceiveCount,
    maxMessageAge: props.maxMessageAge,
  });
  const worker = new SatelliteFunction(scope, id, {
    functionDir: props.functionDir,
    description: props.description,
    timeout: props.timeout,
    memorySize: props.memorySize,
    vpc: props.database.vpc,
    securityGroup: props.database.functionSecurityGroup,
  }).bindDatabase(props.database);
  worker.addEventSource(
    new SqsEventSource(queue.queue, {
      batchSize: props.batchSize,
      reportBatchItemFailures: true,
      ...(props.maxConcurrency ? { maxConcurrency: props.maxConcurrency } : {}),
    }),
  );
  return { queue, worker };
}
