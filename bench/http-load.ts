/**
 * A load generator in its own process, as real clients are: the server's event loop is not
 * shared with the clients'. autocannon drives the connections (its HTTP client costs the
 * shared CPU far less than node:http's); latencies are kept at full precision here.
 * Reads a LoadPlan (JSON) from argv, prints a LoadResult line.
 */
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';

export interface LoadPlan {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly authorization: string;
  readonly requests: number;
  readonly clients: number;
  /** POST only: each request's body is this contact with `{i}` replaced by its index. */
  readonly bodyTemplate?: string;
  readonly firstIndex?: number;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
}

async function main(plan: LoadPlan): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  let next = plan.firstIndex ?? 0;
  const { bodyTemplate } = plan;
  const started = performance.now();
  const request: autocannon.Request = {
    method: plan.method,
    headers: {
      authorization: plan.authorization,
      ...(bodyTemplate === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(bodyTemplate === undefined
      ? {}
      : {
          // Every request a new contact: `{i}` counts up across all connections.
          setupRequest: (template: autocannon.Request) => {
            const body = bodyTemplate.replaceAll('{i}', String(next));
            next += 1;
            return { ...template, body };
          },
        }),
  };
  let instance: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      { url: plan.url, connections: plan.clients, amount: plan.requests, timeout: 30, requests: [request] },
      (error: unknown, result: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
  });
  // autocannon notices that every request has been answered only at its next 1-second tick,
  // so its own end time (and our promise) can come up to a second late: time the last answer.
  let lastResponse = started;
  instance?.on('response', (_client, statusCode, _bytes, responseTime) => {
    lastResponse = performance.now();
    latencies.push(responseTime);
    if (statusCode !== 200) failures += 1;
  });
  const result = await done;
  failures += result.errors + result.timeouts;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 100) / 100;
  const seconds = (lastResponse - started) / 1000;
  return { requestsPerSecond: Math.round(latencies.length / seconds), p50Ms: at(0.5), p99Ms: at(0.99), failures };
}

if (require.main === module) {
  main(JSON.parse(process.argv[2] ?? '{}') as LoadPlan).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`load failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}
