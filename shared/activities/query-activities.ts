import type { Pool } from 'pg';
import { normalizeEmail, normalizePhone } from '../contacts/channels';
import { ValidationFailed } from '../errors';
import { activityColumns, activityPayload, type ActivityPayload, type ActivityRow } from '../webhooks/payload';

export interface ActivityQuery {
  readonly dateFrom: Date;
  readonly dateTo: Date;
  readonly email?: string;
  readonly sms?: string;
  readonly externalCustomerId?: string;
  readonly activityStatus?: string;
  readonly messageTag?: string;
  readonly offset: number;
  readonly maxRows: number;
}

export const MAX_INTERVAL_MONTHS = 3;

/**
 * `at` plus whole calendar months, at the same time of day. The day is clamped to the
 * target month's last: 31 August plus three months is 30 November, where `setUTCMonth`
 * would roll over to 1 December.
 */
function addCalendarMonths(at: Date, months: number): Date {
  const target = new Date(at);
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(at.getUTCDate(), lastDay));
  return target;
}

/**
 * Get contacts activity: one interval of at most three calendar months, oldest first. Each
 * activity comes out as the webhook POST sends it, so one stored activity looks the same both ways.
 */
export async function queryActivities(db: Pool, accountId: number, query: ActivityQuery): Promise<ActivityPayload[]> {
  if (query.dateTo < query.dateFrom) throw new ValidationFailed('dateTo is before dateFrom', undefined, 'INVALID_INTERVAL');
  if (query.dateTo > addCalendarMonths(query.dateFrom, MAX_INTERVAL_MONTHS)) {
    throw new ValidationFailed(`the interval between dateFrom and dateTo is at most ${MAX_INTERVAL_MONTHS} months`, undefined, 'INTERVAL_TOO_LONG');
  }
  const values: unknown[] = [accountId, query.dateFrom, query.dateTo];
  const where = ['account_id = $1', 'occurred_at >= $2', 'occurred_at <= $3'];
  const add = (condition: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    where.push(condition(`$${values.length}`));
  };
  if (query.email !== undefined) add((p) => `lower(email) = ${p}`, normalizeEmail(query.email) ?? '');
  if (query.sms !== undefined) add((p) => `sms = ${p}`, normalizePhone(query.sms) ?? '');
  if (query.externalCustomerId !== undefined) add((p) => `external_customer_id = ${p}`, query.externalCustomerId);
  if (query.activityStatus !== undefined) add((p) => `activity_status = ${p}`, query.activityStatus.toUpperCase());
  // messageTag holds the message's comma-separated tags: match one of them.
  if (query.messageTag !== undefined) add((p) => `${p} = ANY(string_to_array(message_tags, ','))`, query.messageTag);
  values.push(query.offset, query.maxRows);
  const { rows } = await db.query<ActivityRow>(
    `SELECT ${activityColumns} FROM contact_activities a WHERE ${where.join(' AND ')} ORDER BY occurred_at, id OFFSET $${values.length - 1} LIMIT $${values.length}`,
    values,
  );
  return rows.map(activityPayload);
}
