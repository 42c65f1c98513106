import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { authenticate, type BearerResolver, type Principal } from '../accounts/authenticate';
import { authenticateConsoleSession, CONSOLE_CSRF_HEADER, CONSOLE_SESSION_COOKIE } from '../console/sessions';
import { openToApps, rightFor, rightsOpen } from '../accounts/rights';
import { AppError, statusOfKind } from '../errors';
import { logger, type Logger } from '../logger';
import type { Platform } from '../platform';
import { RateLimiter } from './rate-limit';
import { parseBody, parseCookies, parseInput, parseQuery, refuseUnknownQueryNames } from './request';
import type { Reply, Route } from './route';
import { Router } from './router';

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;
export type ApiHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

export interface ApiDependencies {
  readonly platform: () => Promise<Platform>;
  readonly routes: readonly Route[];
  readonly resolveBearer: BearerResolver;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

/**
 * The HTTP API Lambda: API Gateway HTTP API (payload v2) in, structured result out.
 * One middleware turns every thrown error into the error model; nothing else builds errors.
 */
export function createApiHandler(dependencies: ApiDependencies): ApiHandler {
  const router = new Router(dependencies.routes);
  const limiter = new RateLimiter();

  const dispatch = async (event: ApiEvent): Promise<ApiResult> => {
    const platform = await dependencies.platform();
    const requestId = event.requestContext.requestId;
    // Built on first use: most requests never log, and a child logger is not free.
    let requestLog: Logger | undefined;
    const headers = lowerCaseHeaders(event.headers);
    const { route, params } = router.match(event.requestContext.http.method, event.rawPath);
    platform.metrics.add('ApiCalls', 1, route.access);
    const body = eventBody(event, platform.config.maxBodyBytes);
    // Most routes read the parsed body only: the bytes are made when a route asks for them.
    let rawBody: Buffer | undefined;

    let principal: Principal | undefined;
    if (route.access !== 'public') {
      const consoleSession = headers.authorization ? undefined : parseCookies(event.cookies)[CONSOLE_SESSION_COOKIE];
      principal = consoleSession
        ? await authenticateConsoleSession(platform.db, consoleSession, headers[CONSOLE_CSRF_HEADER], platform.clock.now())
        : await authenticate(platform.db, headers.authorization, dependencies.resolveBearer, platform.clock.now());
      limiter.take(`account:${principal.accountId}`, platform.config.rateLimitPerSecond, platform.clock.now().getTime());
      // First: no scope would open these to a partner app, so asking for one would not help.
      if (principal.via === 'oauth' && !openToApps(route.access)) {
        throw new AppError(
          'forbidden',
          'API_KEY_REQUIRED',
          "partner apps cannot manage the account's API keys, OAuth apps or connections; use an API key",
        );
      }
      if (!rightsOpen(principal.rights, route.access)) {
        throw new InsufficientScope(rightFor(route.access), principal.via);
      }
    }

    refuseUnknownQueryNames(event.rawQueryString, route.queryNames);
    const reply = await route.handle({
      params: parseInput(route.params, params, 'path'),
      query: parseInput(route.query, parseQuery(event.rawQueryString), 'query'),
      body: route.body ? parseInput(route.body, parseBody(route.bodyFormat, headers['content-type'], body), 'body') : undefined,
      principal,
      platform,
      get log() {
        requestLog ??= logger.createChild({ persistentKeys: { requestId } });
        return requestLog;
      },
      requestId,
      headers,
      cookies: parseCookies(event.cookies),
      get rawBody() {
        rawBody ??= typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
        return rawBody;
      },
      rawQuery: event.rawQueryString ?? '',
      sourceIp: event.requestContext.http.sourceIp,
    });
    return toResult(reply, requestId);
  };

  return middy<ApiEvent, ApiResult>().use(errorModel()).handler(dispatch);
}

/** 403 naming the missing right; bearer callers also get RFC 6750's `insufficient_scope`. */
class InsufficientScope extends AppError {
  constructor(right: string, via: Principal['via']) {
    super(
      'forbidden',
      'INSUFFICIENT_SCOPE',
      `this credential lacks the ${right} right needed here`,
      undefined,
      via === 'oauth' ? { 'www-authenticate': `Bearer error="insufficient_scope", scope="${right}"` } : undefined,
    );
  }
}

function errorModel(): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    onError: (request) => {
      const error = request.error;
      const requestId = request.event.requestContext.requestId;
      // A child logger costs more than the rest of a refusal (a Console built per child): only
      // the errors that are logged make one, not every 4xx.
      const log = () => logger.createChild({ persistentKeys: { requestId } });
      if (error instanceof AppError) {
        const status = statusOfKind[error.kind];
        if (status >= 500) log().error('request failed', { code: error.code, message: error.message });
        request.response = toResult(
          {
            status,
            headers: error.headers,
            body: { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } },
          },
          requestId,
        );
        return;
      }
      // Internals (stack, SQL, hosts) go to the log only; the caller gets a request id to quote.
      log().error('unhandled error', error instanceof Error ? error : String(error));
      request.response = toResult({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } }, requestId);
    },
  };
}

function toResult(reply: Reply, requestId: string): ApiResult {
  const isText = typeof reply.body === 'string';
  // Bytes (an image) travel base64-encoded, as API Gateway expects them; `headers` names their type.
  if (Buffer.isBuffer(reply.body)) {
    return {
      statusCode: reply.status,
      headers: { ...SECURITY_HEADERS, 'x-request-id': requestId, ...reply.headers },
      body: reply.body.toString('base64'),
      isBase64Encoded: true,
    };
  }
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'x-request-id': requestId,
    ...(reply.body !== undefined && !isText ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    ...reply.headers,
  };
  return {
    statusCode: reply.status,
    headers,
    body: reply.body === undefined ? '' : isText ? reply.body : JSON.stringify(reply.body),
    ...(reply.cookies ? { cookies: [...reply.cookies] } : {}),
  };
}

function lowerCaseHeaders(headers: ApiEvent['headers']): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) result[name.toLowerCase()] = value;
  return result;
}

/**
 * The body as the event carries it: text stays text (API Gateway decoded it, so it is
 * well-formed already; turning it into bytes only to check and decode them again cost every
 * JSON request a copy), bytes sent base64-encoded become bytes.
 */
function eventBody(event: ApiEvent, maxBytes: number): string | Buffer {
  if (!event.body) return EMPTY_BODY;
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  const bytes = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (bytes > maxBytes) throw new AppError('too_large', 'PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);
  return body;
}

const EMPTY_BODY = Buffer.alloc(0);
