import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { SatelliteDatabase } from './database';
import type { SatelliteFunction } from './satellite-function';
import type { SatelliteQueue } from './satellite-queue';
import type { SatelliteSchedules } from './schedules';
import { queueWorker } from './workers';

/**
 * Regular workflows on dynamic segments: a schedule per workflow fires the assembler, which
 * evaluates the segment and emits `regularEventType-<segmentId>` events with `jsonParam`,
 * page by page through its queue.
 */
export class TriggerEvents extends Construct {
  readonly queue: SatelliteQueue;
  readonly assembler: SatelliteFunction;

  constructor(scope: Construct, id: string, props: { database: SatelliteDatabase; schedules: SatelliteSchedules; secretsPrefix: string }) {
    super(scope, id);
    ({ queue: this.queue, worker: this.assembler } = queueWorker(this, 'Assembler', {
      database: props.database,
      functionDir: 'assemble-trigger-events',
      description: 'Assembles trigger events with jsonParam for regular workflows',
      timeout: Duration.minutes(5),
      batchSize: 1,
      maxReceiveCount: 5,
      maxMessageAge: Duration.hours(1),
    }));
    this.assembler.bindConnectorSecretsReadOnly(props.secretsPrefix).bindQueue('triggerEvents', this.queue.queue);
    props.schedules.addTarget('triggerEvents', this.assembler);
  }
}
