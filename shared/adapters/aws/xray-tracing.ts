import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Tracing } from '../../ports/tracing';

/** How much of a statement's text a trace keeps: statements carry bind parameters, never values. */
const MAX_QUERY_CHARS = 2_000;

/**
 * X-Ray through the Powertools Tracer: a subsegment per AWS SDK call (`captureAWSv3Client`)
 * and per platform-store statement, under the Lambda's own segment. The Tracer turns itself
 * off outside Lambda, and `shared/platform.ts` imports this module on AWS only: the X-Ray SDK
 * installs an async hook on load, which local runs and tests should not pay for.
 */
export class XRayTracing implements Tracing {
  // Not every outbound HTTPS request: webhook URLs are customers' and may carry tokens in
  // their query strings, and the SDK calls are captured per client already.
  private readonly tracer = new Tracer({ serviceName: 'satellite', captureHTTPsRequests: false });

  instrumentAwsClient<C extends object>(client: C): C {
    return this.tracer.captureAWSv3Client(client);
  }

  startDatabaseQuery(sql: string): (error?: unknown) => void {
    if (!this.tracer.isTracingEnabled()) return () => undefined;
    const parent = this.tracer.getSegment();
    if (!parent) return () => undefined;
    const subsegment = parent.addNewSubsegment('## postgres');
    subsegment.namespace = 'remote';
    subsegment.addSqlData({ database_type: 'PostgreSQL', sanitized_query: sql.slice(0, MAX_QUERY_CHARS) });
    return (error) => {
      if (error !== undefined) subsegment.addError(error instanceof Error ? error : String(error), true);
      subsegment.close();
    };
  }
}
