import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { queueUrlVariables } from '../../shared/config';
import { fixedSchedules, queues, scheduleTargets, type FixedSchedule, type ScheduleTargetName } from '../../shared/topology';
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
      topology: queues.webhooks,
      description: 'Delivers activity webhooks in order, with backoff',
    }));
    this.dispatcher.addEnvironment('WEBHOOK_RETRY_BASE_SECONDS', String(props.retryBaseSeconds));
    // Backoff is a visibility change on the messages it received (the event source's consume grant covers it).
    this.dispatcher.addEnvironment(queueUrlVariables.webhooks, this.queue.queue.queueUrl);

    this.outboxSweep = this.scheduledFunction(
      props.database,
      'OutboxSweep',
      'OutboxSweepEveryMinute',
      fixedSchedule('webhookOutbox'),
      'Queues webhook outbox rows that were not relayed right after commit',
    ).bindQueue('webhooks', this.queue.queue);
    this.attemptsPrune = this.scheduledFunction(
      props.database,
      'AttemptsPrune',
      'AttemptsPruneEveryHour',
      fixedSchedule('webhookAttempts'),
      'Deletes webhook delivery attempts older than the retention period',
    );
  }

  /** A function on the database that an EventBridge rule invokes on a fixed schedule (no retry: the next run catches up). */
  private scheduledFunction(
    database: SatelliteDatabase,
    functionId: string,
    ruleId: string,
    schedule: FixedSchedule,
    description: string,
  ): SatelliteFunction {
    const target = scheduleTargets[schedule.target];
    const fn = new SatelliteFunction(this, functionId, {
      functionDir: target.worker,
      description,
      timeout: Duration.seconds(target.timeoutSeconds),
      memorySize: 512,
      vpc: database.vpc,
      securityGroup: database.functionSecurityGroup,
    }).bindDatabase(database);
    new Rule(this, ruleId, { schedule: Schedule.expression(schedule.expression), targets: [new LambdaFunction(fn, { retryAttempts: 0 })] });
    return fn;
  }
}

function fixedSchedule(target: ScheduleTargetName): FixedSchedule {
  const schedule = fixedSchedules.find((candidate) => candidate.target === target);
  if (!schedule) throw new Error(`shared/topology.ts declares no fixed schedule for ${target}`);
  return schedule;
}
