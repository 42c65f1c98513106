import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import type { QueueTopology } from '../../shared/topology';
import type { SatelliteDatabase } from './database';
import { SatelliteFunction, type SatelliteFunctionProps } from './satellite-function';
import { SatelliteQueue } from './satellite-queue';

export interface QueueWorkerProps {
  readonly database: SatelliteDatabase;
  /** The queue and its worker as `shared/topology.ts` declares them. */
  readonly topology: QueueTopology;
  readonly description: string;
  readonly memorySize?: number;
  readonly uses?: SatelliteFunctionProps['uses'];
}

/** A queue, its dead-letter queue and the Lambda consuming it with partial batch responses. */
export function queueWorker(scope: Construct, id: string, props: QueueWorkerProps): { queue: SatelliteQueue; worker: SatelliteFunction } {
  const queue = new SatelliteQueue(scope, `${id}Queue`, props.topology);
  const worker = new SatelliteFunction(scope, id, {
    functionDir: props.topology.worker,
    description: props.description,
    timeout: Duration.seconds(props.topology.workerTimeoutSeconds),
    memorySize: props.memorySize,
    uses: props.uses,
    vpc: props.database.vpc,
    securityGroup: props.database.functionSecurityGroup,
  }).bindDatabase(props.database);
  worker.addEventSource(
    new SqsEventSource(queue.queue, {
      batchSize: props.topology.batchSize,
      reportBatchItemFailures: true,
      // Workers together stay within their share of the proxy's connections (`connectionBudget`).
      maxConcurrency: props.topology.maxConcurrency,
    }),
  );
  return { queue, worker };
}
