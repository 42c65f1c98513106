import type { Pool, PoolClient } from 'pg';
import { normalizeEmail, normalizePhone } from '../contacts/channels';
import { listColumns } from '../connectors/catalog';
import { bigQueryFailure, bigQueryFor } from '../connectors/bigquery-client';
import { getConnector, type Connector } from '../connectors/connector';
import { withPostgresConnection } from '../connectors/postgres-pools';
import type { ContactKeyField } from '../connectors/settings';
import type { Platform } from '../platform';
import { bigQuerySourceFailure, sourceQueryFailure } from '../sources/query-failure';
import { normalizeKey, type ContactKey } from '../sources/contact-keys';
import { getSource, type Source } from '../sources/sources';
import { isExternal, isGroup, type Condition, type ContactCondition, type ExternalCondition, type ExternalIdNotSet } from './conditions';
import {
  bigQueryColumnKind,
  bigQueryKeyQuery,
  postgresColumnKind,
  postgresKeyQuery,
  type CatalogColumn,
  type Combinator,
  type PushDownTarget,
} from './external-predicates';

/**
 * The members of a segment now, as sorted contact ids. Conditions on the account's contacts
 * run here; conditions on an external source run in the customer's database (pushed down,
 * one query per source and group) and answer keys, which are matched to the account's live
 * contacts by the connector's unique key: only contacts present in both qualify.
 */
export async function evaluateSegment(platform: Platform, accountId: number, conditions: readonly Condition[]): Promise<number[]> {
  const now = platform.clock.now();
  const context: Evaluation = { platform, accountId, now, sources: new Map() };
  const members = await evaluateGroup(context, 'all', conditions);
  return [...members].sort((a, b) => a - b);
}

interface ResolvedSource {
  readonly source: Source;
  readonly connector: Connector;
  readonly columns: ReadonlyMap<string, CatalogColumn>;
}

interface Evaluation {
  readonly platform: Platform;
  readonly accountId: number;
  readonly now: Date;
  readonly sources: Map<number, Promise<ResolvedSource>>;
}

type ContactLeaf = ContactCondition | ExternalIdNotSet;

async function evaluateGroup(context: Evaluation, combinator: Combinator, conditions: readonly Condition[]): Promise<Set<number>> {
  const contactLeaves: ContactLeaf[] = [];
  const bySource = new Map<number, ExternalCondition[]>();
  const groups: Condition[] = [];
  for (const condition of conditions) {
    if (isGroup(condition)) groups.push(condition);
    else if (isExternal(condition)) bySource.set(condition.source, [...(bySource.get(condition.source) ?? []), condition]);
    else contactLeaves.push(condition as ContactLeaf);
  }
  const sets: Set<number>[] = [];
  if (contactLeaves.length > 0) sets.push(await contactsMatching(context, combinator, contactLeaves));
  for (const [sourceId, sourceConditions] of bySource) sets.push(await externalMatching(context, sourceId, sourceConditions, combinator));
  for (const group of groups) {
    sets.push(
      'any' in group
        ? await evaluateGroup(context, 'any', group.any)
        : await evaluateGroup(context, 'all', (group as { all: readonly Condition[] }).all),
    );
  }
  return combine(sets, combinator);
}

function combine(sets: readonly Set<number>[], combinator: Combinator): Set<number> {
  if (sets.length === 0) return new Set();
  if (combinator === 'any') {
    const union = new Set<number>();
    for (const set of sets) for (const id of set) union.add(id);
    return union;
  }
  const [smallest, ...others] = [...sets].sort((a, b) => a.size - b.size);
  return new Set([...(smallest ?? [])].filter((id) => others.every((set) => set.has(id))));
}

/* ------------------------------------------------------------ contact fields */

const CONTACT_COLUMNS: Readonly<Record<string, string>> = {
  firstName: 'c.first_name',
  lastName: 'c.last_name',
  externalCustomerId: 'c.external_customer_id',
  languageCode: 'c.language_code',
};

async function contactsMatching(context: Evaluation, combinator: Combinator, leaves: readonly ContactLeaf[]): Promise<Set<number>> {
  const values: unknown[] = [context.accountId];
  const bind = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const predicate = (leaf: ContactLeaf): string => {
    if (leaf.operator === 'notSet') return 'c.external_customer_id IS NULL';
    if (leaf.operator === 'set') return 'c.external_customer_id IS NOT NULL';
    const condition = leaf as ContactCondition;
    // Every fragment below is fixed text; the only user input is bound.
    let ref: string;
    if (condition.field === 'email' || condition.field === 'sms') {
      const type = bind(condition.field);
      ref = `(SELECT ch.value FROM contact_channels ch WHERE ch.contact_id = c.id AND ch.type = ${type} ORDER BY ch.position LIMIT 1)`;
    } else if (condition.field.startsWith('field:')) {
      ref = `(c.fields ->> ${bind(condition.field.slice('field:'.length))})`;
    } else {
      ref = CONTACT_COLUMNS[condition.field] ?? 'NULL';
    }
    switch (condition.operator) {
      case 'equals':
        return `lower(${ref}) = lower(${bind(String(condition.value))})`;
      case 'notEquals':
        return `lower(${ref}) IS DISTINCT FROM lower(${bind(String(condition.value))})`;
      case 'lessThan':
        return typeof condition.value === 'number' ? `${asNumber(ref)} < ${bind(condition.value)}` : `${ref} < ${bind(String(condition.value))}`;
      case 'greaterThan':
        return typeof condition.value === 'number' ? `${asNumber(ref)} > ${bind(condition.value)}` : `${ref} > ${bind(String(condition.value))}`;
      case 'contains':
        return `strpos(lower(${ref}), lower(${bind(String(condition.value))})) > 0`;
      case 'isEmpty':
        return `coalesce(${ref}, '') = ''`;
      case 'isNotEmpty':
        return `coalesce(${ref}, '') <> ''`;
      case 'inLastDays':
        return `${asDate(ref)} >= (${bind(context.now.toISOString())}::timestamptz - make_interval(days => ${bind(condition.value)}))::date`;
      case 'dayAndMonthIsToday':
        return `(${ref}) ~ '^\\d{4}-\\d{2}-\\d{2}' AND substr(${ref}, 6, 5) = ${bind(context.now.toISOString().slice(5, 10))}`;
    }
  };
  const where = leaves.map(predicate).join(combinator === 'all' ? ' AND ' : ' OR ');
  const { rows } = await context.platform.db.query<{ id: number }>(
    `SELECT c.id FROM contacts c WHERE c.account_id = $1 AND c.deleted_at IS NULL AND (${where})`,
    values,
  );
  return new Set(rows.map((row) => row.id));
}

/* ---------------------------------------------------------- external sources */

function resolveSource(context: Evaluation, sourceId: number): Promise<ResolvedSource> {
  let resolved = context.sources.get(sourceId);
  if (!resolved) {
    resolved = (async () => {
      const source = await getSource(context.platform.db, context.accountId, sourceId);
      const connector = await getConnector(context.platform.db, context.accountId, source.connectorId);
      const catalog = await listColumns(context.platform, connector, source.dataset, source.table);
      const kindOf = connector.postgres ? postgresColumnKind : bigQueryColumnKind;
      return {
        source,
        connector,
        columns: new Map(catalog.map((column) => [column.name, { name: column.name, kind: kindOf(column.type), type: column.type }])),
      };
    })();
    context.sources.set(sourceId, resolved);
  }
  return resolved;
}

function pushDownTarget({ source, connector, columns }: ResolvedSource): PushDownTarget {
  return {
    dataset: source.dataset,
    table: source.table,
    keyColumn: connector.uniqueKey.column,
    columns,
    ...(connector.bigquery ? { projectId: connector.bigquery.projectId } : {}),
  };
}

/**
 * Checks a segment's external conditions against each source's catalog when the segment is
 * saved: a column the table lacks, or an operator or value its type cannot take (a date
 * operator on a text column), is a 400 now rather than a failure at every later evaluation.
 */
export async function checkSegmentConditions(platform: Platform, accountId: number, conditions: readonly Condition[]): Promise<void> {
  const context: Evaluation = { platform, accountId, now: platform.clock.now(), sources: new Map() };
  const bySource = new Map<number, ExternalCondition[]>();
  const walk = (condition: Condition): void => {
    if (isExternal(condition)) bySource.set(condition.source, [...(bySource.get(condition.source) ?? []), condition]);
    else if ('any' in condition) condition.any.forEach(walk);
    else if ('all' in condition) condition.all.forEach(walk);
  };
  conditions.forEach(walk);
  for (const [sourceId, sourceConditions] of bySource) {
    const resolved = await resolveSource(context, sourceId);
    const compile = resolved.connector.postgres ? postgresKeyQuery : bigQueryKeyQuery;
    compile(pushDownTarget(resolved), sourceConditions, 'all', context.now);
  }
}

async function externalMatching(
  context: Evaluation,
  sourceId: number,
  conditions: readonly ExternalCondition[],
  combinator: Combinator,
): Promise<Set<number>> {
  const resolved = await resolveSource(context, sourceId);
  const { connector } = resolved;
  const target = pushDownTarget(resolved);
  let keys: string[];
  if (connector.postgres) {
    const query = postgresKeyQuery(target, conditions, combinator, context.now);
    try {
      keys = await withPostgresConnection(context.platform, connector, async (client) => {
        const { rows } = await client.query<{ key: string }>(query.sql, query.values);
        return rows.map((row) => row.key);
      });
    } catch (error) {
      // The customer's database is not ours to vouch for: whatever it raises has a code.
      throw sourceQueryFailure(error);
    }
  } else {
    const query = bigQueryKeyQuery(target, conditions, combinator, context.now);
    try {
      const client = await bigQueryFor(context.platform, connector);
      const [rows] = await client.query({
        query: query.sql,
        params: query.params,
        maximumBytesBilled: String(context.platform.config.bigQueryMaximumBytesBilled),
      });
      keys = (rows as { key: string | null }[]).flatMap((row) => (row.key === null ? [] : [String(row.key)]));
    } catch (error) {
      throw bigQuerySourceFailure(bigQueryFailure(error, connector.bigquery?.projectId ?? ''));
    }
  }
  return new Set(await contactsByKey(context.platform.db, context.accountId, connector.uniqueKey.contactField, keys));
}

/** The account's live contacts whose unique-key field holds one of `keys`. */
export async function contactsByKey(db: Pool | PoolClient, accountId: number, field: ContactKeyField, keys: readonly string[]): Promise<number[]> {
  if (keys.length === 0) return [];
  if (field === 'email' || field === 'sms') {
    const normalize = field === 'email' ? normalizeEmail : normalizePhone;
    const normalized = [...new Set(keys.flatMap((key) => normalize(key) ?? []))];
    const { rows } = await db.query<{ id: number }>(
      `SELECT DISTINCT ch.contact_id AS id FROM contact_channels ch JOIN contacts c ON c.id = ch.contact_id AND c.deleted_at IS NULL
        WHERE ch.account_id = $1 AND ch.type = $2 AND ch.normalized = ANY($3::text[])`,
      [accountId, field, normalized],
    );
    return rows.map((row) => row.id);
  }
  if (field === 'externalCustomerId') {
    const { rows } = await db.query<{ id: number }>(
      'SELECT id FROM contacts WHERE account_id = $1 AND deleted_at IS NULL AND external_customer_id = ANY($2::text[])',
      [accountId, keys],
    );
    return rows.map((row) => row.id);
  }
  if (field === 'contactId') {
    const ids = keys.filter((key) => /^\d{1,15}$/.test(key)).map(Number);
    const { rows } = await db.query<{ id: number }>(
      'SELECT id FROM contacts WHERE account_id = $1 AND deleted_at IS NULL AND id = ANY($2::bigint[])',
      [accountId, ids],
    );
    return rows.map((row) => row.id);
  }
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM contacts WHERE account_id = $1 AND deleted_at IS NULL AND fields ->> $2 = ANY($3::text[])`,
    [accountId, field.slice('field:'.length), keys],
  );
  return rows.map((row) => row.id);
}

/** Each contact's unique-key value for a connector (the reverse of `contactsByKey`), in one or two queries. */
export async function keysOfContacts(
  db: Pool | PoolClient,
  accountId: number,
  field: ContactKeyField,
  contactIds: readonly number[],
): Promise<ContactKey[]> {
  if (contactIds.length === 0) return [];
  const firstChannel = async (type: 'email' | 'sms'): Promise<Map<number, string>> => {
    const { rows } = await db.query<{ id: number; value: string }>(
      `SELECT DISTINCT ON (ch.contact_id) ch.contact_id AS id, ch.value
         FROM contact_channels ch
        WHERE ch.account_id = $1 AND ch.contact_id = ANY($2::bigint[]) AND ch.type = $3
        ORDER BY ch.contact_id, ch.position`,
      [accountId, contactIds, type],
    );
    return new Map(rows.map((row) => [row.id, row.value]));
  };
  const { rows: live } = await db.query<{ id: number; external_customer_id: string | null; field_value: string | null }>(
    `SELECT c.id, c.external_customer_id, CASE WHEN $3::text IS NULL THEN NULL ELSE c.fields ->> $3::text END AS field_value
       FROM contacts c WHERE c.account_id = $1 AND c.id = ANY($2::bigint[]) AND c.deleted_at IS NULL ORDER BY c.id`,
    [accountId, contactIds, field.startsWith('field:') ? field.slice('field:'.length) : null],
  );
  const emails = await firstChannel('email');
  const phones = field === 'sms' ? await firstChannel('sms') : undefined;
  return live.map((row) => {
    const email = emails.get(row.id) ?? null;
    let key: string | null;
    switch (field) {
      case 'email':
        key = email === null ? null : normalizeKey('email', email);
        break;
      case 'sms':
        key = phones?.get(row.id) ?? null;
        break;
      case 'externalCustomerId':
        key = row.external_customer_id;
        break;
      case 'contactId':
        key = String(row.id);
        break;
      default:
        key = row.field_value;
    }
    const lookupValues = key === null ? [] : field === 'email' ? [key, email ?? key] : field === 'sms' ? [key, `+${key}`] : [key];
    return { contactId: row.id, email, key, lookupValues: [...new Set(lookupValues)] };
  });
}

/**
 * A contact's text value as a number or a date, NULL when it is not one: a field holding
 * "1.2.3" or "2023-02-30" leaves its contact out instead of failing the whole evaluation.
 * CASE fixes the order (PostgreSQL may reorder the terms of an AND).
 */
function asNumber(ref: string): string {
  return `(CASE WHEN pg_input_is_valid(${ref}, 'numeric') THEN (${ref})::numeric END)`;
}

function asDate(ref: string): string {
  return `(CASE WHEN pg_input_is_valid(left(${ref}, 10), 'date') THEN left(${ref}, 10)::date END)`;
}
