import { defaultSandboxLimits, MAX_TEMPLATE_CHARS, type SandboxLimits } from './limits';
import { OUT_OF_TIME, parseStrict, TemplateParseError } from './parse';
import { NO_LIMIT, type RenderClock } from './render-clock';
import { SandboxedCompile, SandboxError, type Position } from './sandbox';

/**
 * Renders Apache Velocity templates (velocityjs, sandboxed) on the calling thread. A failure
 * never throws: it is answered as a `TemplateError` with a code, a message and, when known,
 * a line and column. Request and send paths do not call this directly: they go through
 * `render-pool.ts`, whose threads call it with a deadline, so that no template can stall
 * or crash the process that serves them.
 */
export type TemplateErrorCode =
  'TEMPLATE_SYNTAX' | 'TEMPLATE_METHOD_FAILED' | 'TEMPLATE_LIMIT_EXCEEDED' | 'TEMPLATE_DATA_READ_ONLY' | 'TEMPLATE_RENDER_FAILED';

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
/** The newest entry of `parsedTemplates`, found again without moving it to the end. */
let latest: { readonly source: string; readonly parsed: Parsed } | undefined;

function parseTemplate(source: string, clock: RenderClock): Parsed {
  if (source.length > MAX_TEMPLATE_CHARS) {
    return { ok: false, error: { code: 'TEMPLATE_LIMIT_EXCEEDED', message: `a template may hold at most ${MAX_TEMPLATE_CHARS} characters` } };
  }
  try {
    return { ok: true, ast: parseStrict(source, clock) as unknown as Ast };
  } catch (error) {
    if (error instanceof TemplateParseError) return { ok: false, error: { code: error.code, ...error.failure } };
    throw error;
  }
}

/**
 * Parses once per distinct template text and keeps the most recent ones (a parse that ran
 * out of time is not kept: on a less busy moment it may finish).
 * @param clock when it says so, parsing stops.
 */
export function parsedTemplate(source: string, clock: RenderClock = NO_LIMIT): Parsed {
  // A send renders one template for a page of recipients: it is already the newest entry.
  if (latest?.source === source) return latest.parsed;
  const cached = parsedTemplates.get(source);
  if (cached) {
    parsedTemplates.delete(source);
    parsedTemplates.set(source, cached);
    latest = { source, parsed: cached };
    return cached;
  }
  const parsed = parseTemplate(source, clock);
  if (!parsed.ok && parsed.error.message === OUT_OF_TIME) return parsed;
  parsedTemplates.set(source, parsed);
  latest = { source, parsed };
  if (parsedTemplates.size > CACHE_SIZE) {
    const oldest = parsedTemplates.keys().next().value;
    if (oldest !== undefined) parsedTemplates.delete(oldest);
  }
  return parsed;
}

/** Checks a template's syntax; the error says where, or undefined when it parses. */
export function templateSyntaxError(source: string, clock?: RenderClock): TemplateError | undefined {
  const parsed = parsedTemplate(source, clock);
  return parsed.ok ? undefined : parsed.error;
}

function located(code: TemplateErrorCode, message: string, position: Position | undefined): TemplateError {
  return { code, message, ...(position ? { line: position.line, column: position.column } : {}) };
}

export interface RenderBounds {
  readonly limits?: SandboxLimits;
  /** When it says so, the render stops with TEMPLATE_LIMIT_EXCEEDED. */
  readonly clock?: RenderClock;
}

/**
 * Renders `source` with `variables` as its top-level references (`$data`, `$contact`).
 * The variables are read only; a template's `#set` writes to a context of its own.
 */
export function renderTemplate(source: string, variables: Readonly<Record<string, unknown>>, bounds: RenderBounds = {}): RenderResult {
  const { limits = defaultSandboxLimits, clock = NO_LIMIT } = bounds;
  const parsed = parsedTemplate(source, clock);
  if (!parsed.ok) return parsed;
  // No prototype: `$constructor`, `$toString` and the like are not variables.
  const context = Object.assign(Object.create(null) as Record<string, unknown>, variables);
  const compile = new SandboxedCompile(parsed.ast, limits, clock);
  try {
    return { ok: true, output: compile.render(context) };
  } catch (error) {
    if (error instanceof SandboxError) return { ok: false, error: located(error.code, error.message, error.position) };
    // Blocks, macros or `#define`s nested past the thread's stack.
    if (error instanceof RangeError && /call stack/i.test(error.message))
      return { ok: false, error: located('TEMPLATE_LIMIT_EXCEEDED', 'the template nests too deeply', compile.lastPosition) };
    // velocityjs itself failing on odd input: the message may quote engine internals, so
    // the caller gets a plain one and the place.
    return { ok: false, error: located('TEMPLATE_RENDER_FAILED', 'the template could not be rendered here', compile.lastPosition) };
  }
}
