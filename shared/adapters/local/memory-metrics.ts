import type { MetricName, Metrics } from '../../ports/metrics';

export interface RecordedMetric {
  readonly name: MetricName;
  readonly value: number;
  readonly dimension?: string;
}

/** The local runtime's metrics: kept in memory, so tests (and a curious developer) can read what AWS would have received. */
export class MemoryMetrics implements Metrics {
  readonly recorded: RecordedMetric[] = [];

  add(name: MetricName, value: number, dimension?: string): void {
    this.recorded.push(dimension === undefined ? { name, value } : { name, value, dimension });
    // Bounded: a long `npm start` must not grow without end.
    if (this.recorded.length > 10_000) this.recorded.splice(0, 5_000);
  }

  total(name: MetricName, dimension?: string): number {
    return this.recorded
      .filter((metric) => metric.name === name && (dimension === undefined || metric.dimension === dimension))
      .reduce((sum, metric) => sum + metric.value, 0);
  }
}
