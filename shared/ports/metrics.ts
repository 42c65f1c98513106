/**
 * What the platform measures about the seeds' promises, declared once: the domain emits
 * these through the `Metrics` port and `infra/constructs/monitoring.ts` alarms on and charts
 * the same names, so the two can never drift.
 */
export const METRIC_NAMESPACE = 'Satellite';

/** Powertools adds this dimension to every metric; alarms must name it too or they watch nothing. */
export const METRIC_SERVICE = 'satellite';

export type MetricUnit = 'Count' | 'Seconds';

export interface MetricDefinition {
  readonly unit: MetricUnit;
  /** A metric split by one dimension (the dataset, the API method group). */
  readonly dimension?: 'Dataset' | 'MethodGroup';
}

export const metricDefinitions = {
  /** POSTs answered 200 (seed 001). */
  WebhookDeliveries: { unit: 'Count' },
  /** POSTs answered otherwise, or not answered; each is retried with backoff. */
  WebhookDeliveryFailures: { unit: 'Count' },
  /**
   * Commit of the oldest activity in a POST → that POST answered 200, measured only on lanes
   * that were not in backoff: a customer's endpoint failing for hours is that customer's
   * problem (and its own attempt log), not platform lag.
   */
  WebhookDeliveryLagSeconds: { unit: 'Seconds' },
  /** Endpoints parked after failing for 13 days. */
  WebhookEndpointsSuspended: { unit: 'Count' },
  ExportRuns: { unit: 'Count', dimension: 'Dataset' },
  /** Runs that failed for good (every attempt spent). */
  ExportRunFailures: { unit: 'Count', dimension: 'Dataset' },
  ExportRows: { unit: 'Count', dimension: 'Dataset' },
  /** Queued → succeeded, per run. */
  ExportRunSeconds: { unit: 'Seconds', dimension: 'Dataset' },
  /** Datasets whose previous run had not succeeded when the next interval fired: the customer's table is stale. */
  ExportDatasetsOverdue: { unit: 'Count' },
  ContactsImported: { unit: 'Count' },
  TemplateRenders: { unit: 'Count' },
  /** Renders stopped by a sandbox limit (time, output size, loop count). */
  TemplateLimitHits: { unit: 'Count' },
  ApiCalls: { unit: 'Count', dimension: 'MethodGroup' },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof metricDefinitions;

export function metricDefinition(name: MetricName): MetricDefinition {
  return metricDefinitions[name];
}

/** Metrics the domain emits. No call ever fails or waits: measuring must not break the work measured. */
export interface Metrics {
  /** `dimension` is the value of the metric's declared dimension (a dataset, a method group). */
  add(name: MetricName, value: number, dimension?: string): void;
}

export const noMetrics: Metrics = { add: () => undefined };
