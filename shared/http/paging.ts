import * as z from 'zod';

/**
 * A whole number in a path or query, written in digits only: `" 1"`, `0x1` and `1e3` are
 * refused rather than read as 1, 1 and 1000.
 */
export const wholeNumberParameter = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'write a whole number in digits only')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** An id in a path or query. */
export const idParameter = wholeNumberParameter(1);

/** The path parameters of a route `…/{id}`. */
export const idPath = z.object({ id: idParameter }).strict();

/** The platform's paging parameters: `startindex` counts from 1, `maxrows` is capped per method. */
export const startIndexParameter = wholeNumberParameter(1).default(1);
export const maxRowsParameter = (max: number) => wholeNumberParameter(1, max).default(max);

/** `?startindex=&maxrows=` and nothing else. */
export const pagingQuery = (max: number) => z.object({ startindex: startIndexParameter, maxrows: maxRowsParameter(max) }).strict();
