import { parse } from 'velocityjs';
import { defaultSandboxLimits, SandboxedCompile, SandboxError, type Position, type SandboxLimits } from './sandbox';

/**
 * Renders Apache Velocity templates (velocityjs, sandboxed). A failure never throws: it is
 * answered as a `TemplateError` with a code, a message and, when known, a line and column.
 */
export type TemplateErrorCode = 'TEMPLATE_SYNTAX' | 'TEMPLATE_METHOD_FAILED' | 'TEMPLATE_LIMIT_EXCEEDED' | 'TEMPLATE_RENDER_FAILED';

export interface TemplateError {
  readonly code: TemplateErrorCode;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

export type RenderResult = { readonly ok: true; readonly output: string } | { readonly ok: false; readonly error: TemplateError };

type Ast = ConstructorParameters<typeof SandboxedCompile>[0];
type Parsed = { readonly ok: true; readonly ast: Ast } | { readonly ok: false; readonly error: TemplateError };

const CACHE_SIZE = 200;
/**
 * Parsed templates keyed by their text: the Map hashes the content (V8 keeps a string's
 * hash with the string, so a template reused across a send is hashed once, not per
 * render as a digest would be). Insertion order makes the oldest go first.
 */
const parsedTemplates = new Map<string, Parsed>();

interface JisonError {
  readonly message: string;
  readonly hash?: { readonly loc?: { readonly first_line?: number; readonly first_column?: number }; readonly expected?: readonly string[]; readonly text?: string };
}

function parseTemplate(source: string): Parsed {
  try {
    return { ok: true, ast: parse(source) };
  } catch (error) {
    const jison = error as JisonError;
    const loc = jison.hash?.loc;
    const found = jison.hash?.text ? `'${jison.hash.text}'` : 'the end of the template';
    const expected = (jison.hash?.expected ?? []).slice(0, 6).map((token) => token.replace(/'/g, '')).join(', ');
    return {
      ok: false,
      error: {
        code: 'TEMPLATE_SYNTAX',
        message: `unexpected ${found}${expected ? `; expected one of ${expected}` : ''}`,
        ...(loc?.first_line !== undefined ? { line: loc.first_line, column: (loc.first_column ?? 0) + 1 } : {}),
      },
    };
  }
}

/** Parses once per distinct template text and keeps the most recent ones. */
export function parsedTemplate(source: string): Parsed {
  const key = source;
  const cached = parsedTemplates.get(key);
  if (cached) {
    parsedTemplates.delete(key);
    parsedTemplates.set(key, cached);
    return cached;
  }
  const parsed = parseTemplate(source);
  parsedTemplates.set(key, parsed);
  if (parsedTemplates.size > CACHE_SIZE) {
    const oldest = parsedTemplates.keys().next().value;
    if (oldest !== undefined) parsedTemplates.delete(oldest);
  }
  return parsed;
}

/** Checks a template's syntax; the error says where, or undefined when it parses. */
export function templateSyntaxError(source: string): TemplateError | undefined {
  const parsed = parsedTemplate(source);
  return parsed.ok ? undefined : parsed.error;
}

function located(code: TemplateErrorCode, message: string, position: Position | undefined): TemplateError {
  return { code, message, ...(position ? { line: position.line, column: position.column } : {}) };
}

/**
 * Renders `source` with `variables` as its top-level references (`$data`, `$contact`).
 * The variables are read only; a template's `#set` writes to a context of its own.
 */
export function renderTemplate(source: string, variables: Readonly<Record<string, unknown>>, limits: SandboxLimits = defaultSandboxLimits): RenderResult {
  const parsed = parsedTemplate(source);
  if (!parsed.ok) return parsed;
  // No prototype: `$constructor`, `$toString` and the like are not variables.
  const context = Object.assign(Object.create(null) as Record<string, unknown>, variables);
  const compile = new SandboxedCompile(parsed.ast, limits);
  try {
    return { ok: true, output: compile.render(context) };
  } catch (error) {
    if (error instanceof SandboxError) return { ok: false, error: located(error.code, error.message, error.position) };
    // velocityjs itself failing on odd input, or a stack overflow from deep nesting: the
    // message may quote engine internals, so the caller gets a plain one and the place.
    return { ok: false, error: located('TEMPLATE_RENDER_FAILED', 'the template could not be rendered here', compile.lastPosition) };
  }
}

/** Deep-freezes JSON data so templates cannot change rows shared between recipients. */
export function freezeData<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) freezeData(item);
    Object.freeze(value);
  }
  return value;
}
