import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { queues, scheduleTargets } from '../../shared/topology';
import type { SatelliteDatabase } from './database';
import { SatelliteFunction } from './satellite-function';
import type { SatelliteQueue } from './satellite-queue';
import type { SatelliteSchedules } from './schedules';
import { queueWorker } from './workers';

/**
 * Scheduled data export: one EventBridge Scheduler schedule per export fires the
 * dispatcher, which enqueues one job per dataset; the worker writes a dataset to the
 * customer's warehouse and re-enqueues its continuation when its time budget runs out.
 */
export class DataExports extends Construct {
  readonly queue: SatelliteQueue;
  readonly worker: SatelliteFunction;
  readonly dispatcher: SatelliteFunction;

  constructor(scope: Construct, id: string, props: { database: SatelliteDatabase; schedules: SatelliteSchedules; secretsPrefix: string }) {
    super(scope, id);
    ({ queue: this.queue, worker: this.worker } = queueWorker(this, 'Worker', {
      database: props.database,
      topology: queues.exports,
      description: 'Exports one dataset of one export to the customer warehouse',
      memorySize: 2048,
      uses: { bigQuery: true },
    }));
    this.worker.bindConnectorSecretsReadOnly(props.secretsPrefix).bindQueue('exports', this.queue.queue);

    this.dispatcher = new SatelliteFunction(this, 'Dispatcher', {
      functionDir: scheduleTargets.exports.worker,
      description: 'Fired by an export schedule: enqueues one job per dataset',
      timeout: Duration.seconds(scheduleTargets.exports.timeoutSeconds),
      vpc: props.database.vpc,
      securityGroup: props.database.functionSecurityGroup,
    })
      .bindDatabase(props.database)
      .bindQueue('exports', this.queue.queue);
    props.schedules.addTarget('exports', this.dispatcher);
  }
}
