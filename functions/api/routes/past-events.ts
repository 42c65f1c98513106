import * as z from 'zod';
import { json, numericId } from '../../../shared/http/answers';
import { deletePastEvents, deletePastEventsQuery, pastEventsSchema, recordPastEvents } from '../../../shared/events/past-events';
import { ok, route, type Route } from '../../../shared/http/route';

/** Seed 004's event methods beside POST event: history with its own timestamps. */
export const pastEventsRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/past_events',
    access: 'events',
    docs: {
      summary: 'Record: Past events (recorded at their own times, no workflows launched)',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: {
        200: json(
          'Each event as recorded, in the order given.',
          z.object({ events: z.array(z.object({ id: numericId, eventKey: z.string(), contactId: numericId.nullable() })) }),
        ),
      },
    },
    body: pastEventsSchema,
    handle: async ({ principal, platform, body }) => {
      const events = await recordPastEvents(platform, principal.accountId, body);
      return ok({ events: events.map((event) => ({ id: event.id, eventKey: event.eventKey, contactId: event.contactId })) });
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/past_events',
    access: 'events',
    docs: {
      summary: 'Delete: Past events (recorded at their own times, no workflows launched)',
      description: "Seed 004's method; shape and differences from eSputnik in docs/esputnik-api.md.",
      responses: { 200: json('How many events were deleted.', z.object({ deleted: z.number().int().nonnegative() })) },
    },
    query: deletePastEventsQuery,
    handle: async ({ principal, platform, query }) => ok({ deleted: await deletePastEvents(platform.db, principal.accountId, query) }),
  }),
];
