import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { queues } from '../../shared/topology';
import type { SatelliteDatabase } from './database';
import type { SatelliteFunction } from './satellite-function';
import type { SatelliteQueue } from './satellite-queue';
import { queueWorker } from './workers';

/**
 * Bulk sends: the API queues one job per broadcast; the worker evaluates the group, sends
 * pages of members and queues its own continuation before its time runs out.
 */
export class Broadcasts extends Construct {
  readonly queue: SatelliteQueue;
  readonly worker: SatelliteFunction;

  constructor(scope: Construct, id: string, props: { database: SatelliteDatabase; secretsPrefix: string; webhooksQueue: IQueue }) {
    super(scope, id);
    ({ queue: this.queue, worker: this.worker } = queueWorker(this, 'Worker', {
      database: props.database,
      topology: queues.broadcasts,
      description: 'Sends broadcasts (POST /api/v1/broadcast) page by page',
      // Reads rows of the customer's BigQuery sources into messages.
      uses: { bigQuery: true },
    }));
    this.worker
      // Messages print rows of the customer's sources: it connects, never saves connectors.
      .bindConnectorSecretsReadOnly(props.secretsPrefix)
      .bindQueue('broadcasts', this.queue.queue)
      // Recording SENT activities relays the webhook outbox right after commit.
      .bindQueue('webhooks', props.webhooksQueue);
  }
}
