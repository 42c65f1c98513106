import * as z from 'zod';

/**
 * The condition vocabulary of conditional groups (dynamic segments). A segment's
 * `conditions` is a list combined with AND; an item may itself be `{"any": [...]}` (OR) or
 * `{"all": [...]}` (AND), nested. Conditions read contact fields, "External ID is not set",
 * or a column of an external data source.
 */
export const comparisonOperators = ['equals', 'notEquals', 'lessThan', 'greaterThan', 'contains', 'isEmpty', 'isNotEmpty'] as const;
export const dateOperators = ['inLastDays', 'dayAndMonthIsToday'] as const;
export type ComparisonOperator = (typeof comparisonOperators)[number];
export type DateOperator = (typeof dateOperators)[number];
export type Operator = ComparisonOperator | DateOperator;

export const contactFields = ['email', 'sms', 'firstName', 'lastName', 'externalCustomerId', 'languageCode'] as const;

const scalar = z.union([z.string().max(1000), z.number().finite(), z.boolean()]);

const operatorValue = z.discriminatedUnion('operator', [
  z.object({ operator: z.enum(['equals', 'notEquals', 'lessThan', 'greaterThan', 'contains']), value: scalar }),
  z.object({ operator: z.enum(['isEmpty', 'isNotEmpty', 'dayAndMonthIsToday']) }),
  z.object({ operator: z.literal('inLastDays'), value: z.number().int().min(0).max(36_500) }),
]);

export type OperatorValue = z.output<typeof operatorValue>;

/** "External ID is not set" (seed 002), and its opposite. */
const externalIdNotSet = z.object({ field: z.literal('externalCustomerId'), operator: z.enum(['notSet', 'set']) }).strict();

const contactFieldName = z.union([z.enum(contactFields), z.string().regex(/^field:\d{1,12}$/, 'an additional field is field:<id>')]);

const contactCondition = z.intersection(z.object({ field: contactFieldName }), operatorValue);

const externalCondition = z.intersection(
  z.object({
    source: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    column: z.string().min(1).max(300),
  }),
  operatorValue,
);

export type ExternalIdNotSet = z.output<typeof externalIdNotSet>;
export type ContactCondition = z.output<typeof contactCondition>;
export type ExternalCondition = z.output<typeof externalCondition>;
export type Condition =
  ExternalIdNotSet | ContactCondition | ExternalCondition | { readonly any: readonly Condition[] } | { readonly all: readonly Condition[] };

const MAX_CONDITIONS = 50;

export const conditionSchema: z.ZodType<Condition> = z
  .lazy(() =>
    z.union([
      externalIdNotSet,
      z.object({ any: z.array(conditionSchema).min(1).max(MAX_CONDITIONS) }).strict(),
      z.object({ all: z.array(conditionSchema).min(1).max(MAX_CONDITIONS) }).strict(),
      externalCondition,
      contactCondition,
    ]),
  )
  .meta({ id: 'Condition' });

export const conditionsSchema = z.array(conditionSchema).min(1).max(MAX_CONDITIONS);

export function isExternal(condition: Condition): condition is ExternalCondition {
  return 'source' in condition;
}

export function isGroup(condition: Condition): condition is { any: readonly Condition[] } | { all: readonly Condition[] } {
  return 'any' in condition || 'all' in condition;
}

/** The external source ids a condition list reads. */
export function sourcesOf(conditions: readonly Condition[]): number[] {
  const ids = new Set<number>();
  const walk = (condition: Condition): void => {
    if (isExternal(condition)) ids.add(condition.source);
    else if ('any' in condition) condition.any.forEach(walk);
    else if ('all' in condition) condition.all.forEach(walk);
  };
  conditions.forEach(walk);
  return [...ids];
}
