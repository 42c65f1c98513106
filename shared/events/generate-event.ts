import type { Pool } from 'pg';
import * as z from 'zod';
import { resolveRecipients, type Recipient } from '../contacts/resolve-recipients';
import type { Clock } from '../ports/clock';

/** Characters the platform forbids in an event type key. */
export const FORBIDDEN_EVENT_KEY_CHARACTERS = ['‹', ';', '’', '\\', '/', '|', '"', "'", '^', '?', '!', ',', '>'] as const;

export const eventTypeKeySchema = z
  .string()
  .trim()
  .min(1, 'eventTypeKey is required')
  .max(100, 'eventTypeKey is at most 100 characters')
  .refine((key) => !FORBIDDEN_EVENT_KEY_CHARACTERS.some((character) => key.includes(character)), {
    message: `eventTypeKey may not contain any of ${FORBIDDEN_EVENT_KEY_CHARACTERS.join(' ')}`,
  });

export const eventSchema = z
  .object({
    eventTypeKey: eventTypeKeySchema,
    keyValue: z.string().trim().min(1).max(200),
    params: z
      .array(
        z
          .object({
            name: z.string().trim().min(1).max(100),
            // Kept as text: templates and trigger events read parameters as strings.
            value: z.union([z.string().max(100_000), z.number(), z.boolean()]).transform(String),
          })
          .strict(),
      )
      .max(500)
      .default([]),
  })
  .strict();
export type EventInput = z.output<typeof eventSchema>;

export interface GeneratedEvent {
  readonly id: number;
  readonly eventKey: string;
  readonly contactId: number | null;
}

const CONTACT_PARAMETERS: Readonly<Record<string, keyof Recipient>> = {
  contactid: 'contactId',
  externalcustomerid: 'externalCustomerId',
  email: 'locator',
  emailaddress: 'locator',
  phone: 'locator',
  phonenumber: 'locator',
  sms: 'locator',
};

/**
 * Generate event: stores the event under its type (created on first use) and links it to
 * the contact its parameters name (contactId > externalCustomerId > email/phone, else the
 * keyValue when it is an email or phone). An event naming no known contact is kept unlinked.
 */
export async function generateEvent(
  db: Pool,
  clock: Clock,
  accountId: number,
  input: EventInput,
  /** past_events: the event's own time, and the mark that keeps it from launching workflows. */
  past?: { readonly occurredAt: Date },
): Promise<GeneratedEvent> {
  const recipient: { contactId?: number; externalCustomerId?: string; locator?: string } = {};
  for (const param of input.params) {
    const role = CONTACT_PARAMETERS[param.name.toLowerCase()];
    if (role === 'contactId' && /^\d{1,15}$/.test(param.value)) recipient.contactId ??= Number(param.value);
    if (role === 'externalCustomerId') recipient.externalCustomerId ??= param.value;
    if (role === 'locator') recipient.locator ??= param.value;
  }
  if (recipient.contactId === undefined && recipient.externalCustomerId === undefined && recipient.locator === undefined) {
    recipient.locator = input.keyValue;
  }
  const [resolved] = await resolveRecipients(db, accountId, [recipient]);
  const contactId = resolved?.contact?.id ?? null;

  const { rows } = await db.query<{ id: number; event_key: string }>(
    `WITH existing AS (
       SELECT id FROM event_types WHERE account_id = $1 AND key = $2
     ), created AS (
       INSERT INTO event_types (account_id, key) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM existing)
       ON CONFLICT (account_id, key) DO UPDATE SET key = EXCLUDED.key
       RETURNING id
     )
     INSERT INTO events (account_id, event_type_id, key_value, contact_id, params, occurred_at, imported)
     SELECT $1, id, $3, $4, $5::jsonb, $6, $7 FROM (SELECT id FROM existing UNION ALL SELECT id FROM created) t LIMIT 1
     RETURNING id, event_key`,
    [accountId, input.eventTypeKey, input.keyValue, contactId, JSON.stringify(input.params), past?.occurredAt ?? clock.now(), past !== undefined],
  );
  const row = rows[0];
  if (!row) throw new Error('event was not stored');
  return { id: row.id, eventKey: row.event_key, contactId };
}

export interface EventView {
  readonly id: number;
  readonly eventKey: string;
  readonly eventTypeKey: string;
  readonly keyValue: string | null;
  readonly contactId: number | null;
  readonly params: readonly { name: string; value: string }[];
  readonly occurredAt: string;
}

export interface EventQuery {
  readonly eventTypeKey?: string;
  readonly contactId?: number;
  readonly dateFrom?: Date;
  readonly dateTo?: Date;
  readonly offset: number;
  readonly maxRows: number;
}

/** Stored events, oldest first. */
export async function listEvents(db: Pool, accountId: number, query: EventQuery): Promise<EventView[]> {
  const values: unknown[] = [accountId];
  const where = ['e.account_id = $1'];
  const add = (condition: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    where.push(condition(`$${values.length}`));
  };
  if (query.eventTypeKey !== undefined) add((p) => `t.key = ${p}`, query.eventTypeKey);
  if (query.contactId !== undefined) add((p) => `e.contact_id = ${p}`, query.contactId);
  if (query.dateFrom !== undefined) add((p) => `e.occurred_at >= ${p}`, query.dateFrom);
  if (query.dateTo !== undefined) add((p) => `e.occurred_at <= ${p}`, query.dateTo);
  values.push(query.offset, query.maxRows);
  const { rows } = await db.query<{
    id: number;
    event_key: string;
    key: string;
    key_value: string | null;
    contact_id: number | null;
    params: { name: string; value: string }[];
    occurred_at: Date;
  }>(
    `SELECT e.id, e.event_key, t.key, e.key_value, e.contact_id, e.params, e.occurred_at
       FROM events e JOIN event_types t ON t.id = e.event_type_id
      WHERE ${where.join(' AND ')}
      ORDER BY e.occurred_at, e.id OFFSET $${values.length - 1} LIMIT $${values.length}`,
    values,
  );
  return rows.map((row) => ({
    id: row.id,
    eventKey: row.event_key,
    eventTypeKey: row.key,
    keyValue: row.key_value,
    contactId: row.contact_id,
    params: row.params,
    occurredAt: row.occurred_at.toISOString(),
  }));
}
