/**
 * The event a regular workflow emits per segment member (seed 000, step 3):
 * `regularEventType-<segmentId>` with `ContactId`, `jsonParam` and `EmailAddress`, where
 * `jsonParam` is the JSON text of `{"<sourceId>": [row, ...]}`.
 */
export type ExternalRow = Readonly<Record<string, string | null>>;

export interface EventParam {
  readonly name: string;
  readonly value: string;
}

export interface TriggerEventMember {
  readonly contactId: number;
  readonly email: string | null;
  /** Rows per source id, in the order the workflow names its sources. */
  readonly rows: ReadonlyMap<number, readonly ExternalRow[]>;
}

export function regularEventTypeKey(segmentId: number): string {
  return `regularEventType-${segmentId}`;
}

/**
 * One value of an external row as templates and `jsonParam` carry it: text. Timestamps are
 * ISO-8601 UTC (`2020-09-02T00:00:00Z`, milliseconds only when there are some); a missing
 * value is JSON null, never an empty slot (the seed's own example shows `"id":,`).
 */
export function externalValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString().replace('.000Z', 'Z');
  if (Buffer.isBuffer(value)) return value.toString('base64');
  // BigQuery wraps DATE/TIME/NUMERIC values in objects with a `value`; keep their text.
  if (typeof value === 'object' && 'value' in value && Object.keys(value).length === 1) return externalValue(value.value);
  return JSON.stringify(value);
}

export function externalRow(row: Readonly<Record<string, unknown>>): ExternalRow {
  const result: Record<string, string | null> = {};
  for (const key of Object.keys(row)) {
    // defineProperty: a column named `__proto__` stays a column, not a prototype.
    Object.defineProperty(result, key, { value: externalValue(row[key]), enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/** `{"<sourceId>": [rows]}` as JSON text: what `data.<sourceId>` of a triggered message reads. */
export function jsonParamOf(rows: ReadonlyMap<number, readonly ExternalRow[]>): string {
  let json = '{';
  let first = true;
  for (const [sourceId, sourceRows] of rows) {
    json += `${first ? '' : ','}"${sourceId}":${JSON.stringify(sourceRows)}`;
    first = false;
  }
  return `${json}}`;
}

/** The params of one member's event, in the seed's order. */
export function triggerEventParams(member: TriggerEventMember): EventParam[] {
  return [
    { name: 'ContactId', value: String(member.contactId) },
    { name: 'jsonParam', value: jsonParamOf(member.rows) },
    { name: 'EmailAddress', value: member.email ?? '' },
  ];
}
