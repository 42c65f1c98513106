import type * as z from 'zod';
import type { Route } from './route';

/** One text field of a request body, as its zod schema bounds it. */
export interface TextLimit {
  /** `contacts[].firstName` */
  readonly path: string;
  /** Longest accepted value, in UTF-16 code units (JavaScript's `length`); undefined when a format bounds it instead. */
  readonly maxLength: number | undefined;
  /** Surrounding whitespace is removed before the value is checked and stored. */
  readonly trimmed: boolean;
}

/** The zod internals this walk reads; zod 4 keeps every schema's definition on `_zod.def`. */
interface SchemaInternals {
  readonly _zod: { readonly def: Record<string, unknown> & { readonly type: string; readonly checks?: readonly SchemaCheck[] } };
  readonly maxLength?: number | null;
}
interface SchemaCheck {
  readonly _zod: { readonly def: { readonly check: string; readonly tx?: (value: string) => string } };
}

/**
 * Every text field a body schema accepts, with its length limit and whether it is trimmed:
 * read from the schemas the routes validate with, so the documented limits are the enforced ones.
 */
export function textLimitsOf(schema: z.ZodType): TextLimit[] {
  const found = new Map<string, TextLimit>();
  walk(schema as unknown as SchemaInternals, '', found, new Set());
  return [...found.values()];
}

function walk(schema: SchemaInternals | undefined, path: string, found: Map<string, TextLimit>, seen: Set<SchemaInternals>): void {
  if (!schema || seen.has(schema)) return;
  seen.add(schema);
  const def = schema._zod.def;
  const inner = (key: string) => def[key] as SchemaInternals | undefined;
  switch (def.type) {
    case 'object':
      for (const [name, field] of Object.entries(def.shape as Record<string, SchemaInternals>))
        walk(field, path ? `${path}.${name}` : name, found, seen);
      return;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return walk(inner('innerType'), path, found, seen);
    case 'array':
      return walk(inner('element'), `${path}[]`, found, seen);
    case 'union':
      for (const option of def.options as SchemaInternals[]) walk(option, path, found, seen);
      return;
    case 'pipe':
      // z.preprocess is a transform piped into the schema that checks: the fields are there.
      return walk(inner('in')?._zod.def.type === 'transform' ? inner('out') : inner('in'), path, found, seen);
    case 'record':
      return walk(inner('valueType'), `${path}{}`, found, seen);
    case 'lazy':
      return walk((def.getter as () => SchemaInternals)(), path, found, seen);
    case 'string': {
      const trimmed = (def.checks ?? []).some((check) => check._zod.def.check === 'overwrite' && check._zod.def.tx?.('  a  ') === 'a');
      if (!found.has(path)) found.set(path, { path, maxLength: schema.maxLength ?? undefined, trimmed });
      return;
    }
    default:
      return;
  }
}

/** The limits section of docs/api-conventions.md: routes whose bodies hold the same fields share a row. */
export function inputLimitsTable(routes: readonly Route[]): string {
  const rows = new Map<string, string[]>();
  for (const route of routes) {
    if (!route.body) continue;
    // Free-form maps (`{}`: the authorize page's form) have no fields to document.
    const limits = textLimitsOf(route.body).filter((limit) => !limit.path.includes('{}'));
    if (limits.length === 0) continue;
    const cells = limits
      .map(
        (limit) =>
          `\`${limit.path || '(the body)'}\` ${limit.maxLength === undefined ? 'by format' : `≤ ${limit.maxLength}`}${limit.trimmed ? ', trimmed' : ''}`,
      )
      .join(' · ');
    rows.set(cells, [...(rows.get(cells) ?? []), `\`${route.method} ${route.path}\``]);
  }
  return [
    '| method | text fields: longest value, and whether it is trimmed |',
    '|---|---|',
    ...[...rows].map(([cells, methods]) => `| ${methods.join('<br>')} | ${cells} |`),
  ].join('\n');
}

export const INPUT_LIMITS_BEGIN =
  "<!-- input-limits:begin (generated from the routes' zod schemas by `npm run docs:limits`; test/http/documented-limits.test.ts checks it) -->";
export const INPUT_LIMITS_END = '<!-- input-limits:end -->';

/** `document` with its limits section replaced by the table the routes' schemas give. */
export function withInputLimits(document: string, routes: readonly Route[]): string {
  const begin = document.indexOf(INPUT_LIMITS_BEGIN);
  const end = document.indexOf(INPUT_LIMITS_END);
  if (begin < 0 || end < begin) throw new Error('the document has no input-limits section');
  return `${document.slice(0, begin + INPUT_LIMITS_BEGIN.length)}\n${inputLimitsTable(routes)}\n${document.slice(end)}`;
}
