import type { Pool } from 'pg';
import * as z from 'zod';
import { timestampSchema } from '../activities/activity-schema';
import type { Platform } from '../platform';
import { eventTypeKeySchema, generateEvent, type GeneratedEvent } from './generate-event';

/** eSputnik's limit per past_events call. */
export const MAX_PAST_EVENTS_PER_CALL = 500;

/** A param value as the platform keeps it: text (an array or object, e.g. an order's items, as its JSON). */
const paramValueSchema = z
  .union([z.string().max(100_000), z.number(), z.boolean(), z.array(z.unknown()), z.record(z.string(), z.unknown())])
  .transform((value) => (typeof value === 'object' ? JSON.stringify(value) : String(value)))
  .pipe(z.string().max(100_000));

export const pastEventSchema = z
  .object({
    eventTypeKey: eventTypeKeySchema,
    keyValue: z.string().trim().min(1).max(200),
    /** When it happened: `YYYY-MM-DD` or `YYYY-MM-DDTHH:mm[:ss][zone]`, UTC when no zone is written. */
    occurred: timestampSchema,
    params: z
      .array(z.object({ name: z.string().trim().min(1).max(100), value: paramValueSchema }).strict())
      .max(500)
      .default([]),
  })
  .strict();

export const pastEventsSchema = z.object({ events: z.array(pastEventSchema).min(1).max(MAX_PAST_EVENTS_PER_CALL) }).strict();
export type PastEventsInput = z.output<typeof pastEventsSchema>;

/**
 * past_events: history from another system. Each event is stored with its own time and
 * linked to its contact like a generated one, and marked `imported`, which keeps it out of
 * everything that reacts to new events (workflows): it exists for lists and segments.
 */
export async function recordPastEvents(platform: Platform, accountId: number, input: PastEventsInput): Promise<GeneratedEvent[]> {
  const recorded: GeneratedEvent[] = [];
  for (const event of input.events) {
    recorded.push(
      await generateEvent(
        platform.db,
        platform.clock,
        accountId,
        { eventTypeKey: event.eventTypeKey, keyValue: event.keyValue, params: event.params },
        { occurredAt: event.occurred },
      ),
    );
  }
  return recorded;
}

export const deletePastEventsQuery = z
  .object({
    eventTypeKey: eventTypeKeySchema,
    keyValue: z.string().trim().min(1).max(200).optional(),
    dateFrom: timestampSchema.optional(),
    dateTo: timestampSchema.optional(),
  })
  .strict();
export type DeletePastEvents = z.output<typeof deletePastEventsQuery>;

/** Deletes the account's events of a type, narrowed by key value and period (inclusive); answers how many. */
export async function deletePastEvents(db: Pool, accountId: number, query: DeletePastEvents): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM events e USING event_types t
      WHERE t.id = e.event_type_id AND e.account_id = $1 AND t.account_id = $1 AND t.key = $2
        AND ($3::text IS NULL OR e.key_value = $3)
        AND ($4::timestamptz IS NULL OR e.occurred_at >= $4)
        AND ($5::timestamptz IS NULL OR e.occurred_at <= $5)`,
    [accountId, query.eventTypeKey, query.keyValue ?? null, query.dateFrom ?? null, query.dateTo ?? null],
  );
  return rowCount ?? 0;
}
