import * as z from 'zod';
import type { ResponseSpec } from './route';

/**
 * Pieces of the answers' schemas that many routes share. Answers are checked against these
 * in the test suite (test/support/stack.ts), so what the document promises is what comes back.
 */
export const timestamp = z.iso.datetime({ offset: true });
export const nullableTimestamp = timestamp.nullable();
export const numericId = z.number().int().positive();

/** `TotalCount`: how many match in all, beside the page the body holds. */
export const totalCountHeader = {
  TotalCount: { description: 'How many match in all; the body holds one page of them.', schema: z.string().regex(/^\d+$/) },
};

/** A JSON answer. */
export const json = (description: string, schema: z.ZodType, example?: unknown): ResponseSpec => ({
  description,
  schema,
  ...(example !== undefined ? { example } : {}),
});

/** A 204: done, nothing to say. */
export const nothing = (description: string): ResponseSpec => ({ description });

/** `{"id": 123}`. */
export const idAnswer = z.object({ id: numericId });
