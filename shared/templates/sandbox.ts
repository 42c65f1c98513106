import { Compile } from 'velocityjs';
import { callJavaMethod, isMap, MethodFailed, NO_SUCH_METHOD, ownProperty } from './java-methods';

/**
 * velocityjs's compiler with the holes a customer-written template could use closed:
 * every property read takes own data properties only and every method call goes to the
 * Java-style allowlist (so `constructor`, `__proto__`, `prototype` and host functions are
 * unreachable), and loops, ranges, recursion, strings and output are bounded so a runaway
 * template ends in a render error instead of a stalled or crashed worker.
 */
export interface SandboxLimits {
  /** Items one `#foreach` (or one `[a..b]` range) may walk. */
  readonly maxLoopIterations: number;
  /** `#foreach` items across the whole render. */
  readonly maxTotalIterations: number;
  /** Template nodes evaluated across the whole render. */
  readonly maxSteps: number;
  /** Characters of any one value or of the output. */
  readonly maxOutputChars: number;
  readonly maxMacroDepth: number;
}

export const defaultSandboxLimits: SandboxLimits = {
  maxLoopIterations: 10_000,
  maxTotalIterations: 100_000,
  maxSteps: 2_000_000,
  maxOutputChars: 2_000_000,
  maxMacroDepth: 32,
};

export interface Position {
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/** A failure raised while rendering, with where in the template it happened. */
export class SandboxError extends Error {
  constructor(
    readonly code: 'TEMPLATE_LIMIT_EXCEEDED' | 'TEMPLATE_METHOD_FAILED',
    message: string,
    readonly position: Position | undefined,
  ) {
    super(message);
  }
}

interface Pos {
  readonly first_line: number;
  readonly first_column: number;
}
interface Node {
  readonly type?: string;
  readonly id?: unknown;
  readonly pos?: Pos;
  readonly args?: unknown[];
  readonly value?: unknown;
  readonly isRange?: boolean;
  readonly from?: Node;
  readonly to?: string;
}
type AstList = NonNullable<Parameters<Compile['renderAstList']>[0]>;

let loopIds = 0;
const HOST_MACROS = new Set(['eval', 'stop']);

const base = Compile.prototype as unknown as {
  getMacro(this: SandboxedCompile, ast: Node, bodyContent?: string): unknown;
  getReferences(this: SandboxedCompile, ast: Node, isVal?: boolean): unknown;
};

export class SandboxedCompile extends Compile {
  private steps = 0;
  private iterations = 0;
  private macroDepth = 0;
  /** Where evaluation last was, so an unexpected failure can still name a place. */
  private lastPos: Pos | undefined;

  constructor(
    asts: AstList,
    private readonly limits: SandboxLimits = defaultSandboxLimits,
  ) {
    super(asts, { escape: false });
  }

  get lastPosition(): Position | undefined {
    const pos = this.lastPos;
    return pos && typeof pos.first_line === 'number' ? { line: pos.first_line, column: pos.first_column + 1 } : undefined;
  }

  private at(node: Node | undefined): Position | undefined {
    if (node?.pos) this.lastPos = node.pos;
    return this.lastPosition;
  }

  private limit(message: string, node?: Node): never {
    throw new SandboxError('TEMPLATE_LIMIT_EXCEEDED', message, this.at(node));
  }

  private checkSize(value: unknown, node?: Node): void {
    if (typeof value === 'string') {
      if (value.length > this.limits.maxOutputChars) this.limit(`a value grew past ${this.limits.maxOutputChars} characters`, node);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    // Nested lists of lists render exponentially; count what printing it would walk.
    let budget = this.limits.maxOutputChars / 4;
    const walk = (item: unknown, depth: number): void => {
      budget -= 1;
      if (budget < 0 || depth > 64) this.limit('a value is too large or too deeply nested to print', node);
      if (Array.isArray(item)) for (const element of item) walk(element, depth + 1);
      else if (isMap(item)) for (const key of Object.keys(item)) walk(item[key], depth + 1);
      else if (typeof item === 'string') budget -= item.length / 4;
    };
    walk(value, 0);
  }

  override renderAstList(asts?: AstList, contextId?: string): string {
    this.steps += (asts ?? this.asts ?? []).length;
    if (this.steps > this.limits.maxSteps) this.limit(`the template evaluated more than ${this.limits.maxSteps} nodes`);
    const output = super.renderAstList(asts, contextId);
    if (output.length > this.limits.maxOutputChars) this.limit(`the output grew past ${this.limits.maxOutputChars} characters`);
    return output;
  }

  protected override getReferences(ast: Parameters<Compile['getReferences']>[0], isVal?: boolean): string {
    const pos = (ast as Node).pos;
    if (pos) this.lastPos = pos;
    const value = base.getReferences.call(this, ast, isVal);
    if (isVal) this.checkSize(value, ast);
    return value as string;
  }

  protected override getExpression(ast: Parameters<Compile['getExpression']>[0]): string {
    const value = super.getExpression(ast);
    this.checkSize(value, ast);
    return value;
  }

  /** `$a.b`, `$a[0]`, `$a.b()`: own data only, methods from the allowlist only. */
  getAttributes(property: Node, baseRef: unknown, ast: Node): unknown {
    if (baseRef === null || baseRef === undefined) return undefined;
    if (property.type === 'method') return this.getPropMethod(property, baseRef, ast);
    if (property.type === 'property') return nullToUndefined(ownProperty(baseRef, String(property.id)));
    return this.getPropIndex(property, baseRef);
  }

  getPropIndex(property: Node, baseRef: unknown): unknown {
    const key = property.id as Node;
    const resolved = key.type === 'references' ? this.getReferences(key as Parameters<Compile['getReferences']>[0]) : key.value;
    return nullToUndefined(ownProperty(baseRef, String(resolved)));
  }

  getPropMethod(property: Node, baseRef: unknown, ast: Node): unknown {
    const args = (Array.isArray(property.args) ? property.args : []).map((argument) => this.getLiteral(argument as Parameters<Compile['getLiteral']>[0]) as unknown);
    const name = String(property.id);
    try {
      const result = callJavaMethod(baseRef, name, args);
      return result === NO_SUCH_METHOD ? undefined : nullToUndefined(result);
    } catch (error) {
      if (error instanceof MethodFailed) throw new SandboxError('TEMPLATE_METHOD_FAILED', error.message, this.at(ast));
      throw error;
    }
  }

  /** `[a..b]` ranges are bounded before the array is built. */
  getArray(literal: Node): unknown[] {
    const values = literal.value as unknown[];
    if (literal.isRange !== true) return values.map((item) => this.getLiteral(item as Parameters<Compile['getLiteral']>[0]) as unknown);
    const [begin, end] = values.map((item) => {
      if (typeof item === 'string') return parseInt(item, 10);
      if (typeof item === 'number') return item;
      return Number(this.getReferences(item as Parameters<Compile['getReferences']>[0]));
    });
    if (begin === undefined || end === undefined || !Number.isInteger(begin) || !Number.isInteger(end)) return [];
    if (Math.abs(end - begin) + 1 > this.limits.maxLoopIterations) this.limit(`a range may hold at most ${this.limits.maxLoopIterations} numbers`, literal);
    const result: number[] = [];
    const step = begin <= end ? 1 : -1;
    for (let value = begin; value !== end + step; value += step) result.push(value);
    return result;
  }

  /** velocityjs's `#foreach`, with the per-loop and per-render iteration bounds. */
  getBlockEach(block: Node[]): string {
    const ast = block[0] as Node;
    const from = this.getLiteral({ ...(ast.from as object), pos: ast.pos } as Parameters<Compile['getLiteral']>[0]) as unknown;
    if (!Array.isArray(from) && !isMap(from)) return '';
    const items: unknown[] = Array.isArray(from) ? from : Object.values(from);
    if (items.length > this.limits.maxLoopIterations) this.limit(`#foreach may walk at most ${this.limits.maxLoopIterations} items`, ast);
    const body = block.slice(1) as unknown as AstList;
    const contextId = `foreach:sandbox:${(loopIds += 1)}`;
    const local: Record<string, unknown> = {};
    let output = '';
    for (let index = 0; index < items.length; index += 1) {
      if (this.runState.break) break;
      this.iterations += 1;
      if (this.iterations > this.limits.maxTotalIterations) this.limit(`the template looped more than ${this.limits.maxTotalIterations} times in all`, ast);
      local[String(ast.to)] = items[index];
      local.foreach = { count: index + 1, index, hasNext: index + 1 < items.length, first: index === 0, last: index + 1 === items.length };
      local.velocityCount = index + 1;
      this.local[contextId] = local;
      output += this.renderAstList(body, contextId);
    }
    if (items.length > 0) {
      this.runState.break = false;
      this.local[contextId] = {};
      this.conditions.shift();
      this.contextId = this.conditions[0] ?? '';
    }
    return output;
  }

  protected override getMacro(ast: Parameters<Compile['getMacro']>[0], bodyContent?: string): string {
    const name = String((ast as Node).id);
    // Only the template's own #macro definitions and #eval/#stop: never a property that
    // objects inherit (`#constructor(...)`, `#toString()`).
    if (!Object.prototype.hasOwnProperty.call(this.macrosStore, name) && !HOST_MACROS.has(name)) return '';
    this.macroDepth += 1;
    try {
      if (this.macroDepth > this.limits.maxMacroDepth) this.limit(`macros may nest at most ${this.limits.maxMacroDepth} deep`, ast);
      return String(base.getMacro.call(this, ast, bodyContent) ?? '');
    } finally {
      this.macroDepth -= 1;
    }
  }
}

function nullToUndefined(value: unknown): unknown {
  // Java Velocity prints a null reference as written (or nothing when quiet, `$!`).
  return value === null ? undefined : value;
}
