/**
 * A load generator in its own process, as real clients are: the server's event loop is not
 * shared with the clients'. Reads a LoadPlan (JSON) from argv, prints a LoadResult line.
 */
import http from 'node:http';
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
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.clients });
  const target = new URL(plan.url);
  const send = (index: number) =>
    new Promise<number>((resolve, reject) => {
      const body = plan.bodyTemplate?.replaceAll('{i}', String((plan.firstIndex ?? 0) + index));
      const request = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: plan.method,
          agent,
          headers: {
            authorization: plan.authorization,
            ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: plan.clients }, async () => {
      while (next < plan.requests) {
        const index = next;
        next += 1;
        const before = performance.now();
        const status = await send(index);
        latencies.push(performance.now() - before);
        if (status !== 200) failures += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 100) / 100;
  return { requestsPerSecond: Math.round(plan.requests / seconds), p50Ms: at(0.5), p99Ms: at(0.99), failures };
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
