/**
 * The one error model. Domain code throws subclasses of `AppError`; the HTTP middleware
 * maps `kind` to a status and answers `{"error": {"code", "message"}}`. Anything else
 * that escapes is an internal error and is answered without details.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'gone'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'rate_limited'
  | 'bad_gateway'
  | 'unavailable';

export interface ErrorDetail {
  readonly path?: string;
  readonly message: string;
}

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details?: readonly ErrorDetail[],
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailed extends AppError {
  constructor(message: string, details?: readonly ErrorDetail[], code = 'VALIDATION_FAILED') {
    super('invalid', code, message, details);
  }
}

export class NotFound extends AppError {
  constructor(what: string, code = 'NOT_FOUND') {
    super('not_found', code, `${what} not found`);
  }
}

export class Unauthorized extends AppError {
  constructor(message = 'authentication required', code = 'UNAUTHORIZED', challenge = 'Basic realm="satellite", Bearer') {
    super('unauthorized', code, message, undefined, { 'www-authenticate': challenge });
  }
}

export class Forbidden extends AppError {
  constructor(message: string, code = 'FORBIDDEN') {
    super('forbidden', code, message);
  }
}

export class Conflict extends AppError {
  constructor(message: string, code = 'CONFLICT') {
    super('conflict', code, message);
  }
}

export class RateLimited extends AppError {
  constructor(retryAfterSeconds: number) {
    super('rate_limited', 'RATE_LIMITED', 'too many requests', undefined, {
      'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}

export const statusOfKind: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  bad_gateway: 502,
  unavailable: 503,
};
