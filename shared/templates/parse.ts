import { MAX_BLOCK_DEPTH } from './limits';
import type { RenderClock } from './render-clock';
import { parseVelocityStatements, ParseOutOfTime } from './velocity-grammar';

/**
 * Parses a Velocity template strictly: velocityjs nests blocks leniently (an unclosed `#if`
 * swallows the rest of the template, a stray `#end` silently drops everything after it), so
 * the blocks are nested here instead and every such mistake is a syntax error with a place.
 */
export interface TemplateSyntaxFailure {
  readonly message: string;
  readonly line?: number;
  /** 1-based. */
  readonly column?: number;
}

/** A template that does not parse (`TEMPLATE_SYNTAX`), or that is past what parsing allows (`TEMPLATE_LIMIT_EXCEEDED`). */
export class TemplateParseError extends Error {
  constructor(
    readonly failure: TemplateSyntaxFailure,
    readonly code: 'TEMPLATE_SYNTAX' | 'TEMPLATE_LIMIT_EXCEEDED' = 'TEMPLATE_SYNTAX',
  ) {
    super(failure.message);
  }
}

interface Pos {
  readonly first_line: number;
  readonly first_column: number;
}
interface Statement {
  readonly type: string;
  readonly id?: unknown;
  readonly pos?: Pos;
}
type Flat = string | Statement;
/** velocityjs's nested AST: a block is an array headed by its opening statement. */
export type NestedAst = (string | Statement | NestedAst)[];

export const OUT_OF_TIME = 'the template took too long to parse';

const UNCLOSED_IN_TEXT: readonly (readonly [string, string, string])[] = [
  ['#*', '*#', 'the comment #*'],
  ['#[[', ']]#', 'the unparsed block #[['],
];

const BLOCK_OPENERS = new Set(['if', 'foreach', 'macro', 'noescape', 'define', 'macro_body']);
/** After these, a newline that starts the next text is dropped (velocityjs's `ignoreSpace`). */
const TRIM_AFTER_DIRECTIVE = /^[ \t]*\n/;

function place(pos: Pos | undefined): Pick<TemplateSyntaxFailure, 'line' | 'column'> {
  return pos ? { line: pos.first_line, column: pos.first_column + 1 } : {};
}

function fail(message: string, pos: Pos | undefined): never {
  throw new TemplateParseError({ message, ...place(pos) });
}

function directive(statement: Statement): string {
  return statement.type === 'macro_body' ? `#@${String(statement.id)}` : `#${statement.type}`;
}

interface JisonError {
  readonly hash?: {
    readonly loc?: { readonly first_line?: number; readonly first_column?: number };
    readonly expected?: readonly string[];
    readonly text?: string;
    readonly line?: number;
  };
}

function grammarFailure(error: unknown): TemplateSyntaxFailure {
  const hash = (error as JisonError).hash;
  const loc = hash?.loc;
  const found = hash?.text ? `'${hash.text}'` : 'the end of the template';
  const expected = (hash?.expected ?? [])
    .slice(0, 6)
    .map((token) => token.replace(/'/g, ''))
    .join(', ');
  const message = `unexpected ${found}${expected ? `; expected one of ${expected}` : ''}`;
  if (loc?.first_line !== undefined) return { message, line: loc.first_line, column: (loc.first_column ?? 0) + 1 };
  // The lexer's own errors carry a 0-based line only.
  return { message, ...(hash?.line !== undefined ? { line: hash.line + 1 } : {}) };
}

/** Nests the flat statement list; every block must end with its own `#end`. */
function nest(flat: readonly Flat[]): NestedAst {
  const root: NestedAst = [];
  const open: { readonly block: NestedAst; readonly opener: Statement; sawElse: boolean }[] = [];
  let current = root;
  for (const item of flat) {
    if (typeof item === 'string') {
      current.push(item);
      continue;
    }
    const innermost = open[open.length - 1];
    switch (item.type) {
      case 'end':
        if (!innermost) fail('#end without a block to close', item.pos);
        open.pop();
        current = open[open.length - 1]?.block ?? root;
        break;
      case 'elseif':
      case 'else':
        if (innermost?.opener.type !== 'if') fail(`#${item.type} outside an #if block`, item.pos);
        if (innermost.sawElse) fail(`#${item.type} after #else`, item.pos);
        if (item.type === 'else') innermost.sawElse = true;
        current.push(item);
        break;
      default:
        if (BLOCK_OPENERS.has(item.type)) {
          const block: NestedAst = [item];
          current.push(block);
          open.push({ block, opener: item, sawElse: false });
          if (open.length > MAX_BLOCK_DEPTH)
            throw new TemplateParseError(
              { message: `blocks may nest at most ${MAX_BLOCK_DEPTH} deep`, ...place(item.pos) },
              'TEMPLATE_LIMIT_EXCEEDED',
            );
          current = block;
        } else {
          current.push(item);
        }
    }
  }
  const unclosed = open[open.length - 1];
  if (unclosed) fail(`${directive(unclosed.opener)} is not closed by #end`, unclosed.opener.pos);
  return root;
}

/**
 * The strict parse of a template (as velocityjs's `parse` with its default whitespace
 * handling would answer it, for a template that velocityjs and Java Velocity agree on).
 * Throws `TemplateParseError`.
 * @param clock when it says so, parsing stops (TEMPLATE_LIMIT_EXCEEDED).
 */
export function parseStrict(source: string, clock?: RenderClock): NestedAst {
  let flat: Flat[];
  try {
    flat = parseVelocityStatements(source, clock) as Flat[];
  } catch (error) {
    if (error instanceof ParseOutOfTime) throw new TemplateParseError({ message: OUT_OF_TIME }, 'TEMPLATE_LIMIT_EXCEEDED');
    // Nesting (of parentheses, lists, maps) past the thread's stack.
    if (error instanceof RangeError) throw new TemplateParseError({ message: 'the template nests too deeply to parse' }, 'TEMPLATE_LIMIT_EXCEEDED');
    throw new TemplateParseError(grammarFailure(error));
  }
  for (const [opener, closer, what] of UNCLOSED_IN_TEXT) {
    // The lexer takes a closed `#* … *#` or `#[[ … ]]#` whole; one left open comes out as
    // text ('#', then '*…'), as an escaped `\#*` does: the source tells them apart.
    const leftInText = flat.some(
      (item, index) => item === '#' && typeof flat[index + 1] === 'string' && (flat[index + 1] as string).startsWith(opener.slice(1)),
    );
    const at = leftInText ? source.lastIndexOf(opener) : -1;
    if (at !== -1 && source.charAt(at - 1) !== '\\' && source.indexOf(closer, at + opener.length) === -1) {
      const before = source.slice(0, at).split('\n');
      fail(`${what} is not closed by ${closer}`, { first_line: before.length, first_column: (before[before.length - 1] ?? '').length });
    }
  }
  flat.forEach((item, index) => {
    if (typeof item === 'string' || item.type === 'references' || item.type === 'raw') return;
    const next = flat[index + 1];
    if (typeof next === 'string' && TRIM_AFTER_DIRECTIVE.test(next)) flat[index + 1] = next.replace(TRIM_AFTER_DIRECTIVE, '');
  });
  return nest(flat);
}
