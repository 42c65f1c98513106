import type { z } from 'zod';
import { AppError, ValidationFailed } from '../errors';
import { unstorableAt } from '../store/unstorable';
import type { BodyFormat } from './route';

/** Validates one part of a request; every failure is a 400 naming the offending fields. */
export function parseInput<T>(schema: z.ZodType<T> | undefined, input: unknown, part: 'path' | 'query' | 'body'): T {
  if (!schema) return undefined as T;
  const unstorable = unstorableAt(input);
  if (unstorable) throw new ValidationFailed(`invalid ${part}`, [{ path: [part, ...unstorable.path].join('.'), message: unstorable.message }]);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationFailed(
    `invalid ${part}`,
    result.error.issues.slice(0, 20).map((issue) => ({
      path: [part, ...issue.path.map(String)].join('.'),
      message: issue.message,
    })),
  );
}

/** The first value of each parameter; an empty one (`?email=&sms=1`) counts as not given, as form-built URLs send them. */
export function parseQuery(rawQueryString: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (!rawQueryString) return result;
  for (const [key, value] of new URLSearchParams(rawQueryString)) if (value !== '' && !(key in result)) result[key] = value;
  return result;
}

export function parseCookies(cookies: readonly string[] | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const cookie of cookies ?? []) {
    for (const part of cookie.split(';')) {
      const index = part.indexOf('=');
      if (index > 0) result[part.slice(0, index).trim()] = decodedCookieValue(part.slice(index + 1).trim());
    }
  }
  return result;
}

/** A cookie value another site's script set may not be valid percent-encoding: it is kept as it came. */
function decodedCookieValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function parseBody(format: BodyFormat, contentType: string | undefined, raw: Buffer): unknown {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  switch (format) {
    case 'raw':
      return raw;
    case 'form':
      if (type && type !== 'application/x-www-form-urlencoded') throw unsupported('application/x-www-form-urlencoded');
      return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
    case 'json': {
      if (type && type !== 'application/json' && !type.endsWith('+json')) throw unsupported('application/json');
      if (raw.length === 0) throw new ValidationFailed('a JSON body is required', undefined, 'BODY_REQUIRED');
      try {
        return JSON.parse(raw.toString('utf8')) as unknown;
      } catch {
        throw new ValidationFailed('the body is not valid JSON', undefined, 'MALFORMED_JSON');
      }
    }
  }
}

function unsupported(expected: string): AppError {
  return new AppError('unsupported_media_type', 'UNSUPPORTED_MEDIA_TYPE', `send the body as ${expected}`);
}
