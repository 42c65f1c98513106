import { Construct } from 'constructs';
import { queues } from '../../shared/topology';
import type { SatelliteDatabase } from './database';
import type { SatelliteFunction } from './satellite-function';
import type { SatelliteQueue } from './satellite-queue';
import { queueWorker } from './workers';

/** Bulk contact imports: the API enqueues a job per request; a worker applies it. */
export class ContactImports extends Construct {
  readonly queue: SatelliteQueue;
  readonly worker: SatelliteFunction;

  constructor(scope: Construct, id: string, props: { database: SatelliteDatabase }) {
    super(scope, id);
    ({ queue: this.queue, worker: this.worker } = queueWorker(this, 'Worker', {
      database: props.database,
      topology: queues.imports,
      description: 'Applies bulk contact imports (POST /api/v1/contacts)',
    }));
  }
}
