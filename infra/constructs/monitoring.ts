import { Aspects, CfnOutput, Duration, Stack, type IAspect } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, type IConstruct } from 'constructs';
import { methodGroups } from '../../shared/accounts/rights';
import { datasetNames } from '../../shared/exports/datasets';
import { METRIC_NAMESPACE, METRIC_SERVICE, metricDefinition, type MetricName } from '../../shared/ports/metrics';
import { promiseAlarms } from '../../shared/topology';
import type { SatelliteDatabase } from './database';
import { SatelliteFunction } from './satellite-function';
import { SatelliteQueue } from './satellite-queue';

/** Thresholds of the alarms that concern no queue (queue ones live in `shared/topology.ts`). */
export const platformAlarms = {
  periodSeconds: 300,
  /** An unhandled error or a throttle in any function: the API answers 500, a job waits for redelivery. */
  functionErrorsAbove: 0,
  functionThrottlesAbove: 0,
  /** API answers 5xx, per five minutes, two periods running. */
  api5xxAbove: 5,
  apiP99LatencyMs: 3_000,
  databaseCpuPercent: 80,
  /** Burstable classes only: below this the instance is about to be throttled (or billed for surplus credits). */
  databaseCpuCreditsBelow: 50,
  databaseFreeStorageBytesBelow: 5 * 1024 ** 3,
  /** Share of max_connections in use on the instance. */
  databaseConnectionsAbove: 250,
  /** Waiting for a connection from the proxy's pool, in microseconds (the metric's unit). */
  proxyBorrowLatencyMicros: 500_000,
  /** Connections the proxy could not multiplex (session state): each one is a database backend held. */
  proxyPinnedConnectionsAbove: 20,
} as const;

export interface SatelliteMonitoringProps {
  readonly database: SatelliteDatabase;
  readonly httpApi: HttpApi;
  readonly alarmEmails: readonly string[];
  /** Burstable database classes alarm on CPU credits. */
  readonly burstableDatabase: boolean;
}

/**
 * Alarms that reach a person and the dashboard: an SNS topic is the action of every alarm in
 * the stack (an aspect adds it, so an alarm added anywhere later is covered too), alarms on
 * every function, the API, the database and proxy, the schedulers, and on the seeds' promises
 * measured by the platform's own metrics.
 */
export class SatelliteMonitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  private readonly period = Duration.seconds(platformAlarms.periodSeconds);

  constructor(scope: Construct, id: string, props: SatelliteMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Alarm notifications are encrypted with a key CloudWatch and EventBridge may use: the
    // AWS-managed SNS key refuses them, and alarms would then fail to notify silently.
    const key = new Key(this, 'TopicKey', { enableKeyRotation: true, description: `${stack.stackName} alarm notifications` });
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com'])
      key.grant(new ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'AlarmTopic', { displayName: `${stack.stackName} alarms`, masterKey: key, enforceSSL: true });
    for (const address of props.alarmEmails) this.topic.addSubscription(new EmailSubscription(address));
    new CfnOutput(stack, 'AlarmTopicArn', { value: this.topic.topicArn, description: 'Subscribe on-call (e-mail, chat, paging) here' });
    Aspects.of(stack).add(new AlarmsNotify(this.topic));

    const functions = stack.node.findAll().filter((node): node is SatelliteFunction => node instanceof SatelliteFunction);
    const queues = stack.node.findAll().filter((node): node is SatelliteQueue => node instanceof SatelliteQueue);

    for (const fn of functions) {
      const name = fn.node.path.replace(`${stack.node.id}/`, '');
      this.alarm(
        `${name}/Errors`,
        `${name}: unhandled errors`,
        fn.metricErrors({ period: this.period, statistic: 'Sum' }),
        platformAlarms.functionErrorsAbove,
      );
      this.alarm(
        `${name}/Throttles`,
        `${name}: throttled invocations`,
        fn.metricThrottles({ period: this.period, statistic: 'Sum' }),
        platformAlarms.functionThrottlesAbove,
      );
    }

    const api5xx = props.httpApi.metricServerError({ period: this.period, statistic: 'Sum' });
    const apiLatency = props.httpApi.metricLatency({ period: this.period, statistic: 'p99' });
    this.alarm('Api5xx', 'The API answers 5xx', api5xx, platformAlarms.api5xxAbove, 2);
    this.alarm('ApiLatencyP99', 'API p99 latency is high', apiLatency, platformAlarms.apiP99LatencyMs, 3);

    const { instance, proxy } = props.database;
    const cpu = instance.metricCPUUtilization({ period: this.period });
    const storage = instance.metricFreeStorageSpace({ period: this.period, statistic: 'Minimum' });
    const connections = instance.metricDatabaseConnections({ period: this.period, statistic: 'Maximum' });
    this.alarm('DatabaseCpu', 'Database CPU is high', cpu, platformAlarms.databaseCpuPercent, 3);
    this.alarm(
      'DatabaseFreeStorage',
      'Database free storage is low (autoscaling may be at its maximum)',
      storage,
      platformAlarms.databaseFreeStorageBytesBelow,
      1,
      'below',
    );
    this.alarm('DatabaseConnections', 'Database connections are near max_connections', connections, platformAlarms.databaseConnectionsAbove, 2);
    if (props.burstableDatabase) {
      const credits = instance.metric('CPUCreditBalance', { period: this.period, statistic: 'Minimum' });
      this.alarm('DatabaseCpuCredits', 'Database CPU credits are running out', credits, platformAlarms.databaseCpuCreditsBelow, 3, 'below');
    }
    const proxyMetric = (metricName: string, statistic: string) =>
      new Metric({ namespace: 'AWS/RDS', metricName, dimensionsMap: { ProxyName: proxy.dbProxyName }, period: this.period, statistic });
    const borrowLatency = proxyMetric('DatabaseConnectionsBorrowLatency', 'p99');
    const pinned = proxyMetric('DatabaseConnectionsCurrentlySessionPinned', 'Maximum');
    this.alarm(
      'ProxyBorrowLatency',
      'Functions wait for a database connection from RDS Proxy',
      borrowLatency,
      platformAlarms.proxyBorrowLatencyMicros,
      3,
    );
    this.alarm('ProxyPinnedConnections', 'RDS Proxy holds many session-pinned connections', pinned, platformAlarms.proxyPinnedConnectionsAbove, 3);

    // Account-wide: the stack's schedules are the only ones the platform expects in the account.
    const schedulerErrors = new Metric({ namespace: 'AWS/Scheduler', metricName: 'TargetErrorCount', period: this.period, statistic: 'Sum' });
    const schedulerDropped = new Metric({ namespace: 'AWS/Scheduler', metricName: 'InvocationDroppedCount', period: this.period, statistic: 'Sum' });
    this.alarm('SchedulerTargetErrors', 'EventBridge Scheduler could not invoke an export or workflow target', schedulerErrors, 0);
    this.alarm('SchedulerDropped', 'EventBridge Scheduler dropped an invocation', schedulerDropped, 0);
    // A failed rotation leaves the old password working until it expires; nobody would notice otherwise.
    new Rule(this, 'RotationFailed', {
      description: 'A Secrets Manager rotation failed',
      eventPattern: { source: ['aws.secretsmanager'], detailType: ['AWS Service Event via CloudTrail'], detail: { eventName: ['RotationFailed'] } },
      targets: [new SnsTopic(this.topic)],
    });

    const lag = this.custom('WebhookDeliveryLagSeconds', 'p99');
    const suspended = this.custom('WebhookEndpointsSuspended', 'Sum');
    const exportFailures = this.perDimension('ExportRunFailures', 'Sum');
    const overdue = this.custom('ExportDatasetsOverdue', 'Sum');
    this.alarm(
      'WebhookDeliveryLag',
      'Webhook delivery lag (commit → 200, lanes not in backoff) is high',
      lag,
      promiseAlarms.webhookLagSeconds,
      promiseAlarms.webhookLagEvaluationPeriods,
    );
    this.alarm(
      'WebhookEndpointsSuspended',
      'A webhook endpoint was suspended after failing for 13 days',
      suspended,
      promiseAlarms.webhookSuspensionsAbove,
    );
    this.alarm('ExportRunsFailed', 'An export run failed after its last attempt', exportFailures, promiseAlarms.exportFailuresAbove);
    this.alarm(
      'ExportDatasetsOverdue',
      'An export dataset was still not exported when its next interval fired',
      overdue,
      promiseAlarms.exportOverdueAbove,
    );

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `${stack.stackName}-operations` });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) => new GraphWidget({ title, left, right, width: 8 });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${stack.stackName}\nAlarms notify the alarm topic. Custom metrics: namespace \`${METRIC_NAMESPACE}\`.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('API calls per method group', [this.perDimension('ApiCalls', 'Sum', [...methodGroups, 'public'])]),
      graph('API 5xx and p99 latency', [api5xx], [apiLatency]),
      graph(
        'Webhooks: deliveries, failures, lag p99',
        [this.custom('WebhookDeliveries', 'Sum'), this.custom('WebhookDeliveryFailures', 'Sum')],
        [lag],
      ),
    );
    this.dashboard.addWidgets(
      graph('Exports: rows', [this.perDimension('ExportRows', 'Sum')]),
      graph('Exports: runs, failures, overdue', [this.perDimension('ExportRuns', 'Sum'), exportFailures, overdue]),
      graph(
        'Imports, renders, template limits',
        [this.custom('ContactsImported', 'Sum'), this.custom('TemplateRenders', 'Sum')],
        [this.custom('TemplateLimitHits', 'Sum')],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Queues: waiting',
        queues.map((queue) => queue.queue.metricApproximateNumberOfMessagesVisible({ period: this.period, label: queue.node.id })),
      ),
      graph(
        'Dead-letter queues',
        queues.map((queue) => queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: this.period, label: queue.node.id })),
      ),
      graph('Database CPU, connections', [cpu], [connections]),
    );
    this.dashboard.addWidgets(
      graph('Proxy borrow latency p99 (µs), pinned', [borrowLatency], [pinned]),
      graph(
        'Function errors',
        functions.map((fn) => fn.metricErrors({ period: this.period, statistic: 'Sum', label: fn.node.id })),
      ),
      graph(
        'Function throttles',
        functions.map((fn) => fn.metricThrottles({ period: this.period, statistic: 'Sum', label: fn.node.id })),
      ),
    );
  }

  private alarm(
    id: string,
    description: string,
    metric: IMetric,
    threshold: number,
    evaluationPeriods = 1,
    direction: 'above' | 'below' = 'above',
  ): Alarm {
    return new Alarm(this, id.replace(/\//g, '') + 'Alarm', {
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods,
      comparisonOperator: direction === 'above' ? ComparisonOperator.GREATER_THAN_THRESHOLD : ComparisonOperator.LESS_THAN_THRESHOLD,
      // No data is no traffic, not a failure (storage and credits always report).
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** A platform metric as Powertools writes it: the service dimension is always present. */
  private custom(name: MetricName, statistic: string, dimensionValue?: string): Metric {
    const definition = metricDefinition(name);
    const dimensionsMap: Record<string, string> = { service: METRIC_SERVICE };
    if (definition.dimension && dimensionValue !== undefined) dimensionsMap[definition.dimension] = dimensionValue;
    return new Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap,
      period: this.period,
      statistic,
      label: dimensionValue ?? name,
    });
  }

  /** The sum over the values of a metric's dimension (alarms cannot SEARCH; at most ten values). */
  private perDimension(name: MetricName, statistic: string, values: readonly string[] = datasetNames): MathExpression {
    // Ids unique per metric: a graph may hold several of these sums.
    const id = (index: number) => `${name.toLowerCase()}${index}`;
    const usingMetrics = Object.fromEntries(values.map((value, index) => [id(index), this.custom(name, statistic, value)]));
    return new MathExpression({
      expression: values.map((_, index) => `FILL(${id(index)}, 0)`).join(' + '),
      usingMetrics,
      period: this.period,
      label: name,
    });
  }
}

/** Every alarm in the stack notifies the topic, whoever created it. */
class AlarmsNotify implements IAspect {
  constructor(private readonly topic: Topic) {}

  visit(node: IConstruct): void {
    if (node instanceof Alarm) node.addAlarmAction(new SnsAction(this.topic));
  }
}
