import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { webhookBreach } from './openapi-contract';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** `Date.now()` when the whole request had arrived. */
  readonly receivedAt: number;
  /** The status this receiver answered. */
  readonly answered: number | 'timeout' | 'reset' | 'slow';
}

/** How the receiver answers the next requests. */
export type Failure =
  | { readonly status: number; readonly body?: string }
  /** Never answers (the sender's timeout must fire). */
  | { readonly kind: 'timeout' }
  /** Drops the connection without answering. */
  | { readonly kind: 'reset' }
  /** Sends 200 headers, then a body that never finishes. */
  | { readonly kind: 'slow' };

export interface WebhookReceiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** POSTs that got a 200: what a receiver has actually accepted. */
  accepted(): ReceivedRequest[];
  /** The activities of every accepted POST, in arrival order. */
  acceptedActivities(): Record<string, unknown>[];
  /** Answer the next `count` requests (GET or POST) with `failure`, then 200 again. */
  failNext(count: number, failure: Failure): void;
  /** Answer every request with `failure` until `recover()`. */
  failAlways(failure: Failure): void;
  recover(): void;
  /** Polls until `condition` holds (bounded), for asynchronous deliveries. */
  waitFor(condition: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1 that records everything and fails on command. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let pending: { count: number; failure: Failure } | undefined;
  let always: Failure | undefined;

  const nextFailure = (): Failure | undefined => {
    if (always) return always;
    if (pending && pending.count > 0) {
      pending.count -= 1;
      return pending.failure;
    }
    return undefined;
  };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const failure = nextFailure();
      const record = (answered: ReceivedRequest['answered']) =>
        requests.push({
          method: request.method ?? '',
          path: request.url ?? '',
          headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])),
          body: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
          answered,
        });
      if (!failure) {
        record(200);
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else if ('status' in failure) {
        record(failure.status);
        response.writeHead(failure.status, { 'content-type': 'text/plain' }).end(failure.body ?? `failing with ${failure.status}`);
      } else if (failure.kind === 'reset') {
        record('reset');
        request.socket.destroy();
      } else if (failure.kind === 'slow') {
        record('slow');
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write('partial');
      } else {
        record('timeout');
      }
    });
  };

  const server: Server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('receiver has no port');

  // What a receiver accepted is held to the document's `webhooks`, so the payload cannot drift from what it promises.
  const accepted = () =>
    requests.filter((request) => {
      if (request.method !== 'POST' || request.answered !== 200) return false;
      const breach = webhookBreach(request.method, request.headers, request.body);
      if (breach) throw new Error(`webhook breaks the OpenAPI document: ${breach}`);
      return true;
    });
  return {
    url: `http://127.0.0.1:${address.port}/hooks`,
    requests,
    accepted,
    acceptedActivities: () => accepted().flatMap((request) => JSON.parse(request.body) as Record<string, unknown>[]),
    failNext: (count, failure) => {
      pending = { count, failure };
    },
    failAlways: (failure) => {
      always = failure;
    },
    recover: () => {
      always = undefined;
      pending = undefined;
    },
    waitFor: async (condition, timeoutMs = 45_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error('condition not met in time');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
