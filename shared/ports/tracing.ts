/**
 * Tracing of the calls a function makes to other services (X-Ray on AWS). The AWS SDK
 * clients and the platform store's connections go through it; domain code need not.
 */
export interface Tracing {
  /** The same AWS SDK client, each of its calls traced. */
  instrumentAwsClient<C extends object>(client: C): C;
  /** Starts timing one database statement; the returned function ends it, with the error if it failed. */
  startDatabaseQuery(sql: string): (error?: unknown) => void;
}

/** Locally, and wherever tracing is off: nothing recorded, nothing loaded. */
export const noTracing: Tracing = {
  instrumentAwsClient: (client) => client,
  startDatabaseQuery: () => () => undefined,
};
