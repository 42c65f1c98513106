import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUE_RETENTION_DAYS, queueAlarms, visibilityTimeoutSeconds, type QueueTopology } from '../../shared/topology';

/** A queue with its dead-letter queue, TLS-only, encrypted, with alarms on both, as `shared/topology.ts` declares it. */
export class SatelliteQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: QueueTopology) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      fifo: props.fifo || undefined,
      retentionPeriod: Duration.days(QUEUE_RETENTION_DAYS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'Queue', {
      fifo: props.fifo || undefined,
      contentBasedDeduplication: false,
      visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(props)),
      retentionPeriod: Duration.days(QUEUE_RETENTION_DAYS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });

    new Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: `Messages in the ${id} dead-letter queue`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.seconds(queueAlarms.periodSeconds) }),
      threshold: queueAlarms.deadLettersAbove,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (props.maxMessageAgeSeconds === undefined) return;
    new Alarm(this, 'OldestMessageAlarm', {
      alarmDescription: `The oldest ${id} message is waiting too long`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.seconds(queueAlarms.periodSeconds) }),
      threshold: props.maxMessageAgeSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: queueAlarms.oldestMessageEvaluationPeriods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
