import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { queueUrlVariables } from '../../shared/config';
import type { SatelliteDatabase } from './database';
import { SatelliteFunction } from './satellite-function';
import type { SatelliteQueue } from './satellite-queue';
import { queueWorker } from './workers';

/**
 * Activity webhooks: a FIFO queue grouped by account (strict per-account order) and the
 * dispatcher. Retries are spaced by visibility timeouts set per message, so a failing
 * endpoint keeps its messages for as long as retention allows; the dead-letter queue only
 * catches what the dispatcher could never handle.
 */
export class ActivityWebhooks extends Construct {
  readonly queue: SatelliteQueue;
  readonly dispatcher: SatelliteFunction;
  readonly outboxSweep: SatelliteFunction;
  readonly attemptsPrune: SatelliteFunction;

  constructor(scope: Construct, id: string, props: { database: SatelliteDatabase; retryBaseSeconds: number }) {
    super(scope, id);
    ({ queue: this.queue, worker: this.dispatcher } = queueWorker(this, 'Dispatcher', {
      database: props.database,
      functionDir: 'deliver-webhooks',
      description: 'Delivers activity webhooks in order, with backoff',
      // One HTTP attempt (10 s) per batch plus bookkeeping; visibility is six times this.
      timeout: Duration.seconds(30),
      fifo: true,
      batchSize: 10,
      maxReceiveCount: 1000,
      maxMessageAge: Duration.hours(2),
    }));
    this.dispatcher.addEnvironment('WEBHOOK_RETRY_BASE_SECONDS', String(props.retryBaseSeconds));
    // Backoff is a visibility change on the messages it received (the event source's consume grant covers it).
    this.dispatcher.addEnvironment(queueUrlVariables.webhooks, this.queue.queue.queueUrl);

    // The safety net for a relay that failed after its activities were committed.
    this.outboxSweep = this.scheduledFunction(props.database, 'OutboxSweep', 'OutboxSweepEveryMinute', Duration.minutes(1), {
      functionDir: 'relay-webhook-outbox',
      description: 'Queues webhook outbox rows that were not relayed right after commit',
      timeout: Duration.seconds(60),
    }).bindQueue('webhooks', this.queue.queue);

    // Delivery attempts are kept for WEBHOOK_ATTEMPT_RETENTION_DAYS (30 by default).
    this.attemptsPrune = this.scheduledFunction(props.database, 'AttemptsPrune', 'AttemptsPruneEveryHour', Duration.hours(1), {
      functionDir: 'prune-webhook-attempts',
      description: 'Deletes webhook delivery attempts older than the retention period',
      timeout: Duration.minutes(5),
    });
  }

  /** A function on the database that an EventBridge rule invokes at a fixed rate (no retry: the next run catches up). */
  private scheduledFunction(
    database: SatelliteDatabase,
    functionId: string,
    ruleId: string,
    rate: Duration,
    props: { functionDir: string; description: string; timeout: Duration },
  ): SatelliteFunction {
    const fn = new SatelliteFunction(this, functionId, {
      ...props,
      memorySize: 512,
      vpc: database.vpc,
      securityGroup: database.functionSecurityGroup,
    }).bindDatabase(database);
    new Rule(this, ruleId, { schedule: Schedule.rate(rate), targets: [new LambdaFunction(fn, { retryAttempts: 0 })] });
    return fn;
  }
}
