import { z } from 'zod';

/** The platform's paging parameters: `startindex` counts from 1, `maxrows` is capped per method. */
export const startIndexParameter = z.coerce.number().int().min(1).default(1);
export const maxRowsParameter = (max: number) => z.coerce.number().int().min(1).max(max).default(max);

/** `?startindex=&maxrows=` and nothing else. */
export const pagingQuery = (max: number) => z.object({ startindex: startIndexParameter, maxrows: maxRowsParameter(max) }).strict();
