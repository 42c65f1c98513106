import { Construct } from 'constructs';
import { queues } from '../../shared/topology';
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
      topology: queues.triggerEvents,
      description: 'Assembles trigger events with jsonParam for regular workflows',
      // Reads rows of the customer's BigQuery sources into messages.
      uses: { bigQuery: true },
    }));
    this.assembler.bindConnectorSecretsReadOnly(props.secretsPrefix).bindQueue('triggerEvents', this.queue.queue);
    props.schedules.addTarget('triggerEvents', this.assembler);
  }
}
