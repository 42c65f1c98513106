import { timestampSchema } from '../activities/activity-schema';
import { ValidationFailed } from '../errors';
import type { ExternalCondition } from './conditions';

/**
 * Segment conditions on an external table, compiled to the customer's own SQL so the
 * database filters and answers only the keys of matching rows (never a full-table pull
 * when a filter exists). Every identifier is checked against the table's catalog before
 * it is quoted; every value is a bind parameter.
 */
export type ColumnKind = 'text' | 'number' | 'boolean' | 'timestamp' | 'date' | 'other';

export interface CatalogColumn {
  readonly name: string;
  readonly kind: ColumnKind;
  /** The type as the catalog spells it (`character varying(100)`, `STRING`), for messages. */
  readonly type?: string;
}

export interface PushedQuery {
  readonly sql: string;
  /** PostgreSQL: positional values ($1…). BigQuery: named parameters (@p0…). */
  readonly values: unknown[];
  readonly params: Record<string, unknown>;
}

export interface PushDownTarget {
  /** PostgreSQL: schema; BigQuery: dataset. */
  readonly dataset: string;
  readonly table: string;
  readonly keyColumn: string;
  readonly columns: ReadonlyMap<string, CatalogColumn>;
  /** BigQuery only: the project holding the dataset. */
  readonly projectId?: string;
}

export type Combinator = 'all' | 'any';

export function postgresColumnKind(dataType: string): ColumnKind {
  // format_type() spells modifiers: character varying(100), numeric(10,2), timestamp(3) with time zone.
  const type = dataType
    .toLowerCase()
    .replace(/\([^)]*\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (/^(smallint|integer|bigint|numeric|decimal|real|double precision)$/.test(type)) return 'number';
  if (type === 'boolean') return 'boolean';
  if (type === 'date') return 'date';
  if (type.startsWith('timestamp')) return 'timestamp';
  // uuid is compared as text ('other'): a bound value that is not a uuid would fail the cast there.
  if (/^(text|character varying|character|varchar|char|citext|name)$/.test(type)) return 'text';
  return 'other';
}

export function bigQueryColumnKind(type: string): ColumnKind {
  const upper = type.toUpperCase();
  if (['INTEGER', 'INT64', 'FLOAT', 'FLOAT64', 'NUMERIC', 'BIGNUMERIC'].includes(upper)) return 'number';
  if (upper === 'BOOLEAN' || upper === 'BOOL') return 'boolean';
  if (upper === 'DATE') return 'date';
  if (upper === 'TIMESTAMP' || upper === 'DATETIME') return 'timestamp';
  if (upper === 'STRING') return 'text';
  return 'other';
}

function columnOf(target: PushDownTarget, name: string): CatalogColumn {
  const column = target.columns.get(name);
  if (!column) throw new ValidationFailed(`the source table has no column ${JSON.stringify(name)}`, undefined, 'UNKNOWN_SOURCE_COLUMN');
  return column;
}

/**
 * Date operators need a column the database itself types as a date or time. A text column
 * that holds dates in some rows holds anything in others ('AAAA-BBBB-DDDD'), and casting it
 * fails the whole query in the customer's database: refused when the segment is saved.
 */
function dateNeeded(column: CatalogColumn, operator: string): void {
  if (column.kind !== 'timestamp' && column.kind !== 'date') {
    throw new ValidationFailed(
      `${operator} needs a date or timestamp column; column ${JSON.stringify(column.name)} is ${column.type ?? column.kind}`,
      [
        { path: 'column', message: column.name },
        { path: 'type', message: column.type ?? column.kind },
        { path: 'operator', message: operator },
      ],
      'CONDITION_TYPE_MISMATCH',
    );
  }
}

function numberValue(value: unknown, column: CatalogColumn): number {
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(number))
    throw new ValidationFailed(`${column.name} is a number column; compare it with a number`, undefined, 'CONDITION_TYPE_MISMATCH');
  return number;
}

function booleanValue(value: unknown, column: CatalogColumn): string {
  if (value === true || value === false || value === 'true' || value === 'false') return String(value);
  throw new ValidationFailed(`${column.name} is a boolean column; compare it with true or false`, undefined, 'CONDITION_TYPE_MISMATCH');
}

/** A date or time the customer's database will read: checked here, or its cast would fail there. */
function timestampValue(value: unknown, column: CatalogColumn): string {
  const parsed = timestampSchema.safeParse(typeof value === 'string' ? value : String(value));
  if (!parsed.success)
    throw new ValidationFailed(`${column.name} holds dates; compare it with an ISO-8601 date or time`, undefined, 'CONDITION_TYPE_MISMATCH');
  return parsed.data.toISOString();
}

const quotePostgres = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** PostgreSQL: `SELECT DISTINCT key::text FROM "schema"."table" WHERE …`. */
export function postgresKeyQuery(target: PushDownTarget, conditions: readonly ExternalCondition[], combinator: Combinator, now: Date): PushedQuery {
  const values: unknown[] = [];
  const bind = (value: unknown, cast = ''): string => {
    values.push(value);
    return `$${values.length}${cast}`;
  };
  const predicate = (condition: ExternalCondition): string => {
    const column = columnOf(target, condition.column);
    const ref = quotePostgres(column.name);
    const typed = (value: unknown): string => {
      switch (column.kind) {
        case 'number':
          return bind(numberValue(value, column), '::numeric');
        case 'boolean':
          return bind(booleanValue(value, column), '::boolean');
        case 'timestamp':
        case 'date':
          return bind(timestampValue(value, column), '::timestamptz');
        default:
          return bind(String(value));
      }
    };
    const comparable = column.kind === 'other' ? `${ref}::text` : column.kind === 'date' ? `${ref}::timestamptz` : ref;
    const asTimestamp = column.kind === 'timestamp' ? ref : `${ref}::timestamptz`;
    switch (condition.operator) {
      case 'equals':
        return `${comparable} = ${typed(condition.value)}`;
      case 'notEquals':
        return `${comparable} IS DISTINCT FROM ${typed(condition.value)}`;
      case 'lessThan':
        return `${comparable} < ${typed(condition.value)}`;
      case 'greaterThan':
        return `${comparable} > ${typed(condition.value)}`;
      case 'contains':
        return `strpos(${ref}::text, ${bind(String(condition.value))}) > 0`;
      case 'isEmpty':
        return `(${ref} IS NULL OR ${ref}::text = '')`;
      case 'isNotEmpty':
        return `(${ref} IS NOT NULL AND ${ref}::text <> '')`;
      case 'inLastDays':
        dateNeeded(column, 'inLastDays');
        return `(${asTimestamp} >= ${bind(now.toISOString(), '::timestamptz')} - make_interval(days => ${bind(condition.value, '::int')}) AND ${asTimestamp} <= ${bind(now.toISOString(), '::timestamptz')})`;
      case 'dayAndMonthIsToday':
        dateNeeded(column, 'dayAndMonthIsToday');
        // The connection runs in UTC, so "today" is the UTC day of the platform clock.
        return `(EXTRACT(MONTH FROM ${asTimestamp}) = ${bind(now.getUTCMonth() + 1, '::int')} AND EXTRACT(DAY FROM ${asTimestamp}) = ${bind(now.getUTCDate(), '::int')})`;
    }
  };
  const key = quotePostgres(columnOf(target, target.keyColumn).name);
  const where = conditions.map(predicate).join(combinator === 'all' ? ' AND ' : ' OR ');
  return {
    sql: `SELECT DISTINCT ${key}::text AS key FROM ${quotePostgres(target.dataset)}.${quotePostgres(target.table)} WHERE ${key} IS NOT NULL AND (${where || 'true'})`,
    values,
    params: {},
  };
}

const quoteBigQuery = (name: string): string => {
  // Backticks cannot be escaped inside a BigQuery quoted identifier; the catalog check has
  // already matched the name, so refuse the character rather than guess.
  if (/[`\\\n]/.test(name))
    throw new ValidationFailed(`${JSON.stringify(name)} cannot be used as a BigQuery identifier`, undefined, 'UNSUPPORTED_IDENTIFIER');
  return `\`${name}\``;
};

/** BigQuery (GoogleSQL): `SELECT DISTINCT CAST(key AS STRING) FROM \`project.dataset.table\` WHERE …`. */
export function bigQueryKeyQuery(target: PushDownTarget, conditions: readonly ExternalCondition[], combinator: Combinator, now: Date): PushedQuery {
  const params: Record<string, unknown> = {};
  const bind = (value: unknown): string => {
    const name = `p${Object.keys(params).length}`;
    params[name] = value;
    return `@${name}`;
  };
  const predicate = (condition: ExternalCondition): string => {
    const column = columnOf(target, condition.column);
    const ref = quoteBigQuery(column.name);
    const typed = (value: unknown): string => {
      switch (column.kind) {
        case 'number':
          return `CAST(${bind(String(numberValue(value, column)))} AS FLOAT64)`;
        case 'boolean':
          return `CAST(${bind(booleanValue(value, column))} AS BOOL)`;
        case 'timestamp':
        case 'date':
          return `TIMESTAMP(${bind(timestampValue(value, column))})`;
        default:
          return bind(String(value));
      }
    };
    const comparable = column.kind === 'date' ? `TIMESTAMP(${ref})` : column.kind === 'other' ? `TO_JSON_STRING(${ref})` : ref;
    const asTimestamp = `TIMESTAMP(${ref})`;
    switch (condition.operator) {
      case 'equals':
        return `${comparable} = ${typed(condition.value)}`;
      case 'notEquals':
        return `${comparable} IS DISTINCT FROM ${typed(condition.value)}`;
      case 'lessThan':
        return `${comparable} < ${typed(condition.value)}`;
      case 'greaterThan':
        return `${comparable} > ${typed(condition.value)}`;
      case 'contains':
        return `STRPOS(CAST(${ref} AS STRING), ${bind(String(condition.value))}) > 0`;
      case 'isEmpty':
        return `(${ref} IS NULL OR CAST(${ref} AS STRING) = '')`;
      case 'isNotEmpty':
        return `(${ref} IS NOT NULL AND CAST(${ref} AS STRING) <> '')`;
      case 'inLastDays': {
        dateNeeded(column, 'inLastDays');
        const at = bind(now.toISOString());
        return `(${asTimestamp} >= TIMESTAMP_SUB(TIMESTAMP(${at}), INTERVAL ${bind(condition.value)} DAY) AND ${asTimestamp} <= TIMESTAMP(${at}))`;
      }
      case 'dayAndMonthIsToday':
        dateNeeded(column, 'dayAndMonthIsToday');
        return `(EXTRACT(MONTH FROM ${asTimestamp}) = ${bind(now.getUTCMonth() + 1)} AND EXTRACT(DAY FROM ${asTimestamp}) = ${bind(now.getUTCDate())})`;
    }
  };
  const key = quoteBigQuery(columnOf(target, target.keyColumn).name);
  const table = quoteBigQuery(`${target.projectId ?? ''}${target.projectId ? '.' : ''}${target.dataset}.${target.table}`);
  const where = conditions.map(predicate).join(combinator === 'all' ? ' AND ' : ' OR ');
  return {
    sql: `SELECT DISTINCT CAST(${key} AS STRING) AS key FROM ${table} WHERE ${key} IS NOT NULL AND (${where || 'TRUE'})`,
    values: [],
    params,
  };
}
