import { isUtf8 } from 'node:buffer';
import type * as z from 'zod';
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

/**
 * Refuses a query parameter the route does not declare, empty or not, as a strict query
 * schema would (`VALIDATION_FAILED` naming `query.<name>`): `?name=first` on a route without
 * filters would otherwise list everything, which looks like a filtered answer.
 */
export function refuseUnknownQueryNames(rawQueryString: string | undefined, known: readonly string[] | 'any'): void {
  if (known === 'any' || !rawQueryString) return;
  const unknown = [...new Set([...new URLSearchParams(rawQueryString).keys()].filter((name) => !known.includes(name)))];
  if (unknown.length === 0) return;
  throw new ValidationFailed(
    known.length === 0 ? 'this method takes no query parameters' : `unknown query parameter; this method takes ${known.join(', ')}`,
    unknown.slice(0, 20).map((name) => ({ path: `query.${name}`, message: 'unknown query parameter' })),
  );
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

/** `raw` is text when the gateway delivered text (well-formed by then), bytes when it delivered base64. */
export function parseBody(format: BodyFormat, contentType: string | undefined, raw: Buffer | string): unknown {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  switch (format) {
    case 'raw':
      return typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    case 'form':
      if (type && type !== 'application/x-www-form-urlencoded') throw unsupported('application/x-www-form-urlencoded');
      return Object.fromEntries(new URLSearchParams(typeof raw === 'string' ? raw : raw.toString('utf8')));
    case 'json': {
      if (type && type !== 'application/json' && !type.endsWith('+json')) throw unsupported('application/json');
      if (raw.length === 0) throw new ValidationFailed('a JSON body is required', undefined, 'BODY_REQUIRED');
      if (typeof raw !== 'string' && !isUtf8(raw)) throw notUtf8(raw);
      try {
        return JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8')) as unknown;
      } catch {
        throw new ValidationFailed('the body is not valid JSON', undefined, 'MALFORMED_JSON');
      }
    }
  }
}

/**
 * Stands in for each byte that is not part of valid UTF-8: a lone surrogate, which decoding
 * valid UTF-8 never yields, so the field holding one can be named after parsing.
 */
const NOT_UTF8 = '\udfff';

/**
 * A JSON body that is not valid UTF-8 is refused rather than decoded with U+FFFD in place of
 * the bad bytes (which would store text the sender never wrote). The answer names the field
 * that holds them, or the body when they sit outside any string.
 */
function notUtf8(raw: Buffer): ValidationFailed {
  const message = 'is not valid UTF-8';
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeMarkingInvalid(raw)) as unknown;
  } catch {
    return new ValidationFailed('the body is not valid UTF-8', [{ path: 'body', message }]);
  }
  const path = pathHolding(parsed, NOT_UTF8);
  return new ValidationFailed('invalid body', [{ path: ['body', ...(path ?? [])].join('.'), message }]);
}

function pathHolding(value: unknown, marker: string): string[] | undefined {
  if (typeof value === 'string') return value.includes(marker) ? [] : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes(marker)) return [key];
    const found = pathHolding(item, marker);
    if (found) return [key, ...found];
  }
  return undefined;
}

function decodeMarkingInvalid(raw: Buffer): string {
  let text = '';
  let runStart = 0;
  let at = 0;
  while (at < raw.length) {
    const length = utf8SequenceLength(raw, at);
    if (length > 0) {
      at += length;
      continue;
    }
    text += raw.toString('utf8', runStart, at) + NOT_UTF8;
    at += 1;
    runStart = at;
  }
  return text + raw.toString('utf8', runStart);
}

/** The length of the well-formed UTF-8 sequence at `at` (Unicode table 3-7), or 0. */
function utf8SequenceLength(bytes: Buffer, at: number): number {
  const lead = bytes[at]!;
  const trail = (offset: number, low = 0x80, high = 0xbf) => {
    const byte = bytes[at + offset];
    return byte !== undefined && byte >= low && byte <= high;
  };
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return trail(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) return trail(1, lead === 0xe0 ? 0xa0 : 0x80, lead === 0xed ? 0x9f : 0xbf) && trail(2) ? 3 : 0;
  if (lead >= 0xf0 && lead <= 0xf4) return trail(1, lead === 0xf0 ? 0x90 : 0x80, lead === 0xf4 ? 0x8f : 0xbf) && trail(2) && trail(3) ? 4 : 0;
  return 0;
}

function unsupported(expected: string): AppError {
  return new AppError('unsupported_media_type', 'UNSUPPORTED_MEDIA_TYPE', `send the body as ${expected}`);
}
