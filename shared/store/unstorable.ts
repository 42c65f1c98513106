/** How deep a request's (or a stored JSON value's) nesting may go; no API shape comes near it. */
const MAX_DEPTH = 64;
/** A NUL, or half of a UTF-16 surrogate pair: neither can be stored in PostgreSQL text or jsonb. */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Where `value` holds something no field may: text the store cannot keep, or nesting deeper
 * than MAX_DEPTH. The API checks every request with it; domain code checks JSON it parses.
 */
export function unstorableAt(value: unknown, depth = 0): { path: string[]; message: string } | undefined {
  if (typeof value === 'string')
    return UNSTORABLE.test(value) ? { path: [], message: 'holds a NUL character or a broken UTF-16 surrogate' } : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_DEPTH) return { path: [], message: `nests deeper than ${MAX_DEPTH} levels` };
  for (const [key, item] of Object.entries(value)) {
    if (UNSTORABLE.test(key)) return { path: [key], message: 'has a key with a NUL character or a broken UTF-16 surrogate' };
    const found = unstorableAt(item, depth + 1);
    // The path is built on the way out, so a clean request allocates none.
    if (found) return { path: [key, ...found.path], message: found.message };
  }
  return undefined;
}
