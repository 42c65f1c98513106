import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { AppError } from '../errors';
import { resolveDestination, type DestinationPolicy } from '../net/destination-guard';

export const RESPONSE_EXCERPT_BYTES = 2048;

export interface WebhookRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** In production the host must resolve to a public address. */
  readonly destinations: DestinationPolicy;
}

export type WebhookOutcome =
  | { readonly kind: 'answered'; readonly status: number; readonly excerpt: string; readonly latencyMs: number }
  | { readonly kind: 'failed'; readonly code: string; readonly error: string; readonly latencyMs: number };

// Kept-alive connections: a busy lane posts to the same receiver many times a second.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/**
 * One request to a receiver. The host is resolved and checked once and the connection
 * goes to that address (a second lookup could swap in an internal one). Never throws:
 * every way a receiver can fail becomes an outcome the caller logs and retries.
 */
export async function sendWebhookRequest(request: WebhookRequest): Promise<WebhookOutcome> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  let lookup: LookupFunction;
  try {
    const destination = await resolveDestination(request.url.hostname, request.destinations);
    lookup = (_hostname, options, callback) => {
      if (options.all) callback(null, [{ address: destination.address, family: destination.family }]);
      else callback(null, destination.address, destination.family);
    };
  } catch (error) {
    const code = error instanceof AppError ? error.code : 'DNS_NOT_FOUND';
    return { kind: 'failed', code, error: error instanceof Error ? error.message : 'the host could not be resolved', latencyMs: latency() };
  }

  const transport = request.url.protocol === 'https:' ? https : http;
  const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
  return new Promise<WebhookOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: WebhookOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const outgoing = transport.request(request.url, {
      method: request.method,
      agent: agents[request.url.protocol === 'https:' ? 'https:' : 'http:'],
      lookup,
      headers: { ...request.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
    });
    let answered: { status: number; chunks: Buffer[]; size: number } | undefined;
    const excerpt = () => (answered ? Buffer.concat(answered.chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8') : '');
    const timer = setTimeout(() => {
      // A receiver that answered but dribbles its body has still answered: keep its status.
      if (answered) finish({ kind: 'answered', status: answered.status, excerpt: excerpt(), latencyMs: latency() });
      else finish({ kind: 'failed', code: 'TIMEOUT', error: `no answer within ${request.timeoutMs} ms`, latencyMs: latency() });
      outgoing.destroy();
    }, request.timeoutMs);

    outgoing.on('response', (response) => {
      answered = { status: response.statusCode ?? 0, chunks: [], size: 0 };
      const current = answered;
      response.on('data', (chunk: Buffer) => {
        if (current.size < RESPONSE_EXCERPT_BYTES) current.chunks.push(chunk);
        current.size += chunk.length;
      });
      response.on('end', () => finish({ kind: 'answered', status: current.status, excerpt: excerpt(), latencyMs: latency() }));
      response.on('error', () => finish({ kind: 'answered', status: current.status, excerpt: excerpt(), latencyMs: latency() }));
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (answered) finish({ kind: 'answered', status: answered.status, excerpt: excerpt(), latencyMs: latency() });
      else finish({ kind: 'failed', ...describeNetworkError(error), latencyMs: latency() });
    });
    outgoing.end(body);
  });
}

function describeNetworkError(error: NodeJS.ErrnoException): { code: string; error: string } {
  switch (error.code) {
    case 'ECONNREFUSED':
      return { code: 'CONNECTION_REFUSED', error: 'the receiver refused the connection' };
    case 'ECONNRESET':
    case 'EPIPE':
      return { code: 'CONNECTION_RESET', error: 'the receiver closed the connection before answering' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { code: 'HOST_UNREACHABLE', error: 'the receiver host is unreachable' };
    case 'ETIMEDOUT':
      return { code: 'TIMEOUT', error: 'connecting to the receiver timed out' };
    default:
      if (error.code?.startsWith('ERR_TLS') || error.code?.includes('CERT') || error.code?.startsWith('ERR_SSL'))
        return { code: 'TLS_FAILED', error: `TLS handshake failed (${error.code})` };
      return { code: 'NETWORK_ERROR', error: `the request failed (${error.code ?? 'network error'})` };
  }
}
