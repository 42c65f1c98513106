import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONSOLE_CONTENT_SECURITY_POLICY, type ConsoleFiles } from '../console/build';
import type { ApiEvent, ApiHandler } from '../shared/http/api-handler';
import { lambdaContext } from './lambda-context';

/** API Gateway's own payload limit; larger requests never reach the function. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

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
  const server = createServer((request, response) => {
    // As CloudFront does in the stack: the console's own files first, every other path to the API.
    if (consoleFiles && serveConsoleFile(consoleFiles, request, response)) return;
    void serve(handler, request, response);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return { url: `http://${host}:${address.port}`, server };
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
  const textual = body.length === 0 || /json|text|x-www-form-urlencoded|xml/i.test(contentType);
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
