import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONSOLE_CONTENT_SECURITY_POLICY, type ConsoleFiles } from '../console/build';
import type { ApiEvent, ApiHandler } from '../shared/http/api-handler';
import { lambdaContext } from './lambda-context';

/** API Gateway's own payload limit; larger requests never reach the function. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;
/**
 * API Gateway HTTP API's quota on the request line and header values together: what is refused here
 * is refused deployed too, so a request that works locally works on AWS. (Node's parser, which
 * would answer a bare 431 at 16 KB, is given room to read well past it.)
 */
export const GATEWAY_MAX_HEAD_BYTES = 10_240;
const NODE_MAX_HEADER_BYTES = 1024 * 1024;

/**
 * What API Gateway HTTP API does in front of the function: turns each HTTP request into a
 * payload-v2 event (`APIGatewayProxyEventV2`), invokes the handler, writes its result back.
 */
export async function startHttpGateway(
  handler: ApiHandler,
  port: number,
  host = '127.0.0.1',
  consoleFiles?: ConsoleFiles,
): Promise<{ url: string; server: Server }> {
  const server = createServer({ maxHeaderSize: NODE_MAX_HEADER_BYTES }, (request, response) => {
    // As CloudFront does in the stack: the console's own files first, every other path to the API.
    if (consoleFiles && serveConsoleFile(consoleFiles, request, response)) return;
    void serve(handler, request, response);
  });
  // What Node's parser refuses (a head past even NODE_MAX_HEADER_BYTES, a malformed request)
  // is answered in the API's error shape rather than with Node's bare status line.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const refusal = error.code === 'HPE_HEADER_OVERFLOW' ? headTooLarge('headers') : refused(400, 'BAD_REQUEST', 'the request is not valid HTTP');
    const body = JSON.stringify(refusal.body);
    const head = [
      `HTTP/1.1 ${refusal.status} ${refusal.reason}`,
      ...Object.entries(refusal.headers).map(([name, value]) => `${name}: ${value}`),
      `content-length: ${Buffer.byteLength(body)}`,
      'connection: close',
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return { url: `http://${host}:${address.port}`, server };
}

interface GatewayRefusal {
  readonly status: number;
  readonly reason: string;
  readonly headers: Record<string, string>;
  readonly body: { error: { code: string; message: string } };
}

/** The gateway's own refusals, in the API's error model with a request id like any answer. */
function refused(status: number, code: string, message: string): GatewayRefusal {
  const reasons: Record<number, string> = { 400: 'Bad Request', 414: 'URI Too Long', 431: 'Request Header Fields Too Large' };
  return {
    status,
    reason: reasons[status] ?? 'Error',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-request-id': randomUUID(),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    body: { error: { code, message } },
  };
}

function headTooLarge(part: 'url' | 'headers'): GatewayRefusal {
  return part === 'url'
    ? refused(414, 'URI_TOO_LONG', `the path and query string exceed ${GATEWAY_MAX_HEAD_BYTES} bytes; send long input in a body`)
    : refused(431, 'HEADERS_TOO_LARGE', `the request line and header values exceed ${GATEWAY_MAX_HEAD_BYTES} bytes`);
}

/** The request line and the header values as received, in bytes: what API Gateway's quota counts. */
function headBytes(request: IncomingMessage): number {
  let size = Buffer.byteLength(`${request.method ?? ''} ${request.url ?? ''} HTTP/${request.httpVersion}`);
  for (let index = 1; index < request.rawHeaders.length; index += 2) size += Buffer.byteLength(request.rawHeaders[index]!);
  return size;
}

function serveConsoleFile(files: ConsoleFiles, request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const file = files.get(new URL(request.url ?? '/', 'http://localhost').pathname);
  if (!file) return false;
  response.writeHead(200, {
    'content-type': file.contentType,
    'content-length': String(file.body.length),
    'content-security-policy': CONSOLE_CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    // Rebuilt at every start: the browser asks again rather than keep an old bundle.
    'cache-control': 'no-cache',
  });
  response.end(request.method === 'HEAD' ? undefined : file.body);
  return true;
}

async function serve(handler: ApiHandler, request: IncomingMessage, response: ServerResponse): Promise<void> {
  try {
    const head = headBytes(request);
    if (head > GATEWAY_MAX_HEAD_BYTES) {
      // 414 when the headers alone would fit (a shorter URL would do), 431 when they would not.
      const refusal = headTooLarge(head - Buffer.byteLength(request.url ?? '') <= GATEWAY_MAX_HEAD_BYTES ? 'url' : 'headers');
      request.resume();
      response.writeHead(refusal.status, refusal.headers).end(JSON.stringify(refusal.body));
      return;
    }
    const body = await readBody(request);
    if (body === undefined) {
      response.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Request Entity Too Large' }));
      return;
    }
    const event = toEvent(request, body);
    const result = await handler(event, lambdaContext('api', 29_000));
    const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string> | undefined) };
    if (result.cookies?.length) headers['set-cookie'] = result.cookies;
    const payload = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
    // As API Gateway does: the length up front, not a chunked body.
    headers['content-length'] = String(Buffer.byteLength(payload));
    response.writeHead(result.statusCode ?? 200, headers).end(payload);
  } catch {
    // API Gateway answers a crashed integration with a bare 500.
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: 'Internal Server Error' }));
  }
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > GATEWAY_MAX_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function toEvent(request: IncomingMessage, body: Buffer): ApiEvent {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === 'cookie') continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const queryStringParameters: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    queryStringParameters[key] = key in queryStringParameters ? `${queryStringParameters[key]},${value}` : value;
  }
  const contentType = headers['content-type'] ?? '';
  // Bytes that are not UTF-8 travel base64-encoded, so the function sees exactly what was sent
  // (and can refuse it) instead of text with U+FFFD in their place.
  const textual = body.length === 0 || (/json|text|x-www-form-urlencoded|xml/i.test(contentType) && isUtf8(body));
  const now = new Date();
  const method = request.method ?? 'GET';
  const cookieHeader = request.headers.cookie;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.startsWith('?') ? url.search.slice(1) : url.search,
    cookies: cookieHeader ? cookieHeader.split(';').map((cookie) => cookie.trim()) : undefined,
    headers,
    queryStringParameters: url.search ? queryStringParameters : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length === 0 ? undefined : textual ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !textual,
  };
}
