/**
 * External rows leave Satellite as strings: the seed's `"id": "2"` and
 * `"birthday": "2020-09-02T00:00:00Z"`. Timestamps are ISO-8601 in UTC with `Z`, fractions
 * kept only when present; dates become midnight UTC; NULL stays null.
 */
export type Row = Record<string, string | null>;

const PG_TIMESTAMP = /^(\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2}(?::?\d{2}){0,2})?( BC)?$/;

/** PostgreSQL text of timestamp / timestamptz (session TimeZone UTC) to ISO-8601 UTC. */
export function isoFromPostgresTimestamp(text: string): string {
  const match = PG_TIMESTAMP.exec(text);
  if (!match || match[5]) return text; // infinity, BC dates: nothing sensible to convert
  const [, date, time, fraction = '', offset = ''] = match;
  if (offset && !/^\+00(:?00){0,2}$/.test(offset)) {
    // Only when the session was not in UTC after all: let Date do the arithmetic.
    return new Date(`${date}T${time}${fraction}${offset.length === 3 ? `${offset}:00` : offset}`).toISOString().replace('.000Z', 'Z');
  }
  return `${date}T${time}${trimFraction(fraction)}Z`;
}

export function isoFromDate(date: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T00:00:00Z` : date;
}

function trimFraction(fraction: string): string {
  const trimmed = fraction.replace(/0+$/, '');
  return trimmed === '.' ? '' : trimmed;
}

// OIDs of the built-in types that need more than their text form.
const BOOL = 16;
const DATE = 1082;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

/** pg type parsers that keep every value as its text, except dates, timestamps and booleans. */
export const postgresRowTypes = {
  getTypeParser: (oid: number): ((text: string) => string) => {
    switch (oid) {
      case BOOL:
        return (text) => (text === 't' ? 'true' : 'false');
      case DATE:
        return isoFromDate;
      case TIMESTAMP:
      case TIMESTAMPTZ:
        return isoFromPostgresTimestamp;
      default:
        return (text) => text;
    }
  },
};

/** A value from the BigQuery client (parsed with its default options) as a string. */
export function stringFromBigQuery(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return JSON.stringify(value.map(stringFromBigQuery));
  if (typeof value === 'object') {
    const kind = value.constructor?.name;
    const inner = (value as { value?: unknown }).value;
    if (kind === 'BigQueryTimestamp' && typeof inner === 'string') return isoFromIsoTimestamp(inner);
    if (kind === 'BigQueryDate' && typeof inner === 'string') return isoFromDate(inner);
    if (kind === 'BigQueryDatetime' && typeof inner === 'string') return isoFromIsoTimestamp(inner.replace(' ', 'T'));
    if ((kind === 'BigQueryTime' || kind === 'BigQueryInt' || kind === 'Big') && inner !== undefined) return String(inner);
    if (kind === 'Big') return String(value);
    return JSON.stringify(value);
  }
  return String(value);
}

function isoFromIsoTimestamp(text: string): string {
  const match = /^(\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]00:00)?$/.exec(text);
  if (!match) return text;
  return `${match[1]}${trimFraction(match[2] ?? '')}Z`;
}
