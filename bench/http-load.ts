/**
 * A load generator in its own process, as real clients are: the server's event loop is not
 * shared with the clients'. It does share the machine's two cores with the stack it measures,
 * so it is kept as lean as an HTTP client can be: keep-alive connections on plain sockets,
 * each request written whole in one write, each answer read only as far as its status and its
 * length. (autocannon, used before, rebuilt and deep-copied every request and parsed answers in
 * JavaScript: about 0.14 ms of CPU per call, taken from the stack under test.) It speaks what
 * the local gateway answers, HTTP/1.1 with a Content-Length, and fails loudly on anything else.
 * Reads a LoadPlan (JSON) from argv, prints a LoadResult line.
 */
import { connect, type Socket } from 'node:net';
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
  /** This load generator's own CPU (user + system) per call, µs: what the clients cost, kept apart from the stack's. */
  readonly generatorCpuUsPerCall: number;
}

const ANSWER_TIMEOUT_MS = 30_000;
const HEAD_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection: sends a request, resolves with the answer's status once the whole answer is in. */
class Connection {
  private received: Buffer | undefined;
  private waiting: { resolve: (status: number) => void; reject: (error: Error) => void } | undefined;
  private broken: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.setTimeout(ANSWER_TIMEOUT_MS, () => socket.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  static open(url: URL): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
        socket.off('error', reject);
        resolve(new Connection(socket));
      });
      socket.once('error', reject);
    });
  }

  request(bytes: string): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.broken) {
        reject(this.broken);
        return;
      }
      this.waiting = { resolve, reject };
      this.socket.write(bytes);
    });
  }

  close(): void {
    this.waiting = undefined;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const received = this.received ? Buffer.concat([this.received, chunk]) : chunk;
    const headEnd = received.indexOf(HEAD_END);
    if (headEnd < 0) {
      this.received = received;
      return;
    }
    const head = received.toString('latin1', 0, headEnd);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
    if (length === undefined) {
      this.socket.destroy(new Error(`an answer without Content-Length: ${head.split('\r\n', 1)[0]}`));
      return;
    }
    if (received.length < headEnd + HEAD_END.length + Number(length)) {
      this.received = received;
      return;
    }
    this.received = undefined;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(Number(head.slice(9, 12)));
  }

  private fail(error: Error): void {
    this.broken ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}

async function main(plan: LoadPlan): Promise<LoadResult> {
  const url = new URL(plan.url);
  const head = `${plan.method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: ${plan.authorization}\r\n`;
  const { bodyTemplate } = plan;
  // Every request a new contact: `{i}` counts up across all connections.
  const requestBytes =
    bodyTemplate === undefined
      ? () => `${head}\r\n`
      : (index: number) => {
          const body = bodyTemplate.replaceAll('{i}', String(index));
          return `${head}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
        };
  const connections = await Promise.all(Array.from({ length: plan.clients }, () => Connection.open(url)));
  const latencies: number[] = [];
  let failures = 0;
  let sent = 0;
  let next = plan.firstIndex ?? 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let lastAnswer = started;
  try {
    await Promise.all(
      connections.map(async (connection) => {
        while (sent < plan.requests) {
          sent += 1;
          const bytes = requestBytes(next);
          next += 1;
          const before = performance.now();
          const status = await connection.request(bytes);
          lastAnswer = performance.now();
          latencies.push(lastAnswer - before);
          if (status !== 200) failures += 1;
        }
      }),
    );
  } finally {
    connections.forEach((connection) => connection.close());
  }
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 100) / 100;
  const seconds = (lastAnswer - started) / 1000;
  return {
    requestsPerSecond: Math.round(latencies.length / seconds),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    failures,
    generatorCpuUsPerCall: Math.round((cpu.user + cpu.system) / plan.requests),
  };
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
