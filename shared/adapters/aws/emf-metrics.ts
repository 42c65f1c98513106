import { Metrics as PowertoolsMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE, METRIC_SERVICE, metricDefinition, type MetricName, type Metrics } from '../../ports/metrics';

const units = { Count: MetricUnit.Count, Seconds: MetricUnit.Seconds } as const;

/**
 * Metrics as CloudWatch embedded metric format lines on stdout (Powertools Metrics): Lambda
 * ships them with the logs, so measuring costs no API call and no time on the request.
 * Each call is written at once rather than buffered to the end of the invocation: a function
 * that times out or crashes still reports what it did before.
 */
export class EmfMetrics implements Metrics {
  private readonly metrics = new PowertoolsMetrics({ namespace: METRIC_NAMESPACE, serviceName: METRIC_SERVICE });

  add(name: MetricName, value: number, dimension?: string): void {
    const definition = metricDefinition(name);
    const single = this.metrics.singleMetric();
    if (definition.dimension && dimension !== undefined) single.addDimension(definition.dimension, dimension);
    single.addMetric(name, units[definition.unit], value);
  }
}
