import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

/** JSON logs everywhere; each request or job logs through a child carrying its ids. */
export const logger = new Logger({ serviceName: 'satellite' });
export type { Logger };

/**
 * Every deployed handler is wrapped in this: each log line of the invocation carries the
 * function's name, version, request id and cold start, so a line found in Logs Insights leads
 * to its invocation (and its X-Ray trace).
 */
export function withLambdaContext<E, R>(handler: (event: E, context: Context) => R): (event: E, context: Context) => R {
  return (event, context) => {
    // Local callers may pass no context.
    if (context as Context | undefined) logger.addContext(context);
    return handler(event, context);
  };
}
