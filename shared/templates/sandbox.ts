import { Compile } from 'velocityjs';
import {
  callJavaMethod,
  ExternalDataReadOnly,
  isMap,
  LIST_ITEM_UNITS,
  MAP_KEY_UNITS,
  MethodFailed,
  NO_SUCH_METHOD,
  ownProperty,
  type MethodGuard,
} from './java-methods';
import { defaultSandboxLimits, type SandboxLimits } from './limits';
import { parseStrict, TemplateParseError, type NestedAst } from './parse';
import { NO_LIMIT, type RenderClock } from './render-clock';

/**
 * velocityjs's compiler with the holes a customer-written template could use closed:
 * every property read takes own data properties only and every method call goes to the
 * Java-style allowlist (so `constructor`, `__proto__`, `prototype` and host functions are
 * unreachable), and every kind of work is bounded — loops, ranges, recursion, nodes, the
 * size of every value before it is built, the work of every method call, the output, and
 * the render's time — so a runaway template ends in a render error inside its thread.
 * (The thread's heap and a hard deadline bound what slips past: see render-pool.ts.)
 */
export type SandboxErrorCode = 'TEMPLATE_LIMIT_EXCEEDED' | 'TEMPLATE_METHOD_FAILED' | 'TEMPLATE_DATA_READ_ONLY' | 'TEMPLATE_SYNTAX';

export interface Position {
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/** A failure raised while rendering, with where in the template it happened. */
export class SandboxError extends Error {
  constructor(
    readonly code: SandboxErrorCode,
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
  readonly operator?: string;
  readonly expression?: Node[];
  readonly equal?: [Node & { readonly path?: Node[] }, Node];
}
type AstList = NonNullable<Parameters<Compile['renderAstList']>[0]>;
type Literal = Parameters<Compile['getLiteral']>[0];
type Reference = Parameters<Compile['getReferences']>[0];

let loopIds = 0;
const HOST_MACROS = new Set(['eval', 'stop']);
/** The clock is read once per this many work units (a node counts `STEP_UNITS`): cheap, yet often. */
const CLOCK_EVERY_UNITS = 65_536;
const STEP_UNITS = 1_024;
const FRAGMENT_CACHE_SIZE = 500;
/** Double-quoted strings and `#eval` texts, parsed once each (velocityjs re-parses them on every evaluation). */
const parsedFragments = new Map<string, NestedAst>();

const base = Compile.prototype as unknown as {
  getMacro(this: SandboxedCompile, ast: Node, bodyContent?: string): unknown;
  getReferences(this: SandboxedCompile, ast: Node, isVal?: boolean): unknown;
  setValue(this: SandboxedCompile, ast: Node): void;
  getContext(this: SandboxedCompile, id: string): Record<string, unknown>;
  getPathKeys(this: SandboxedCompile, reference: Node): string[];
};

/** velocityjs's printing of a value (`[a, b]`, `{k=v}`), which its own `format` does but does not export. */
function printed(value: unknown): unknown {
  if (Array.isArray(value)) return `[${value.map(printed).join(', ')}]`;
  if (isMap(value)) {
    return `{${Object.keys(value)
      .map((key) => `${key}=${String(printed(value[key]))}`)
      .join(', ')}}`;
  }
  return value;
}

interface SandboxConfig {
  sandbox?: SandboxedCompile;
}

function checkedSetValue(this: SandboxConfig, value: unknown): unknown {
  this.sandbox?.checkShallow(value, undefined, true);
  return value;
}

export class SandboxedCompile extends Compile implements MethodGuard {
  private steps = 0;
  private iterations = 0;
  private work = 0;
  private untimed = 0;
  private macroDepth = 0;
  /** Where evaluation last was, so an unexpected failure can still name a place. */
  private lastPos: Pos | undefined;

  /** @param clock when it says so, the render stops. */
  constructor(
    asts: AstList,
    private readonly limits: SandboxLimits = defaultSandboxLimits,
    private readonly clock: RenderClock = NO_LIMIT,
  ) {
    // Every `#set` value passes velocityjs's `valueMapper`, so none is stored oversized. The
    // hook is one shared function finding its sandbox on the config (no closure per render:
    // this constructor runs once per recipient).
    super(asts, { escape: false, valueMapper: checkedSetValue, sandbox: undefined } as ConstructorParameters<typeof Compile>[1]);
    (this.config as unknown as SandboxConfig).sandbox = this;
  }

  /** The sandbox is its methods' guard (`MethodGuard`). */
  get guard(): MethodGuard {
    return this;
  }

  get maxTextLength(): number {
    return this.limits.maxValueChars;
  }

  get maxItems(): number {
    return this.limits.maxCollectionItems;
  }

  text(length: number): void {
    if (length > this.limits.maxValueChars) this.limit(`a value would grow past ${this.limits.maxValueChars} characters`);
  }

  items(count: number): void {
    if (count > this.limits.maxCollectionItems) this.limit(`a list or map would grow past ${this.limits.maxCollectionItems} items`);
  }

  /**
   * Lists and maps this render built (literals, ranges, method results): the only ones a
   * template may change. Everything it was given is read-only without being frozen, so the
   * data of a whole batch need not be walked before rendering.
   */
  private owned: WeakSet<object> | undefined;

  owns(value: object): boolean {
    return this.owned?.has(value) ?? false;
  }

  own<T extends object>(value: T): T {
    (this.owned ??= new WeakSet()).add(value);
    return value;
  }

  override getLiteral(literal: Literal): string {
    const value = super.getLiteral(literal) as unknown;
    if ((literal as Node).type === 'map' && typeof value === 'object' && value !== null) this.own(value);
    return value as string;
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

  private tick(units: number): void {
    this.untimed += units;
    if (this.untimed < CLOCK_EVERY_UNITS) return;
    this.untimed = 0;
    if (this.clock.expired()) this.limit('the render ran out of time');
  }

  charge(units: number): void {
    this.work += units;
    if (this.work > this.limits.maxWork)
      this.limit(`the template did more than ${this.limits.maxWork} units of work (characters and items its methods and output touched)`);
    this.tick(units);
  }

  private step(nodes: number): void {
    this.steps += nodes;
    if (this.steps > this.limits.maxSteps) this.limit(`the template evaluated more than ${this.limits.maxSteps} nodes`);
    this.tick(nodes * STEP_UNITS);
  }

  /**
   * A value's own size: characters of a text, items of a list (and of a map when `maps`:
   * counting keys costs their number, so only where a map is stored, not on every read).
   */
  checkShallow(value: unknown, node?: Node, maps = false): void {
    if (typeof value === 'string') {
      if (value.length > this.limits.maxValueChars) this.limit(`a value grew past ${this.limits.maxValueChars} characters`, node);
    } else if (Array.isArray(value)) {
      if (value.length > this.limits.maxCollectionItems) this.limit(`a list grew past ${this.limits.maxCollectionItems} items`, node);
    } else if (maps && isMap(value)) {
      const size = Object.keys(value).length;
      this.charge(size * MAP_KEY_UNITS);
      if (size > this.limits.maxCollectionItems) this.limit(`a map grew past ${this.limits.maxCollectionItems} items`, node);
    }
  }

  /** What printing a value would build, walked (and charged) before it is built. */
  private checkPrintable(value: unknown, node?: Node): void {
    if (typeof value === 'string') {
      this.checkShallow(value, node);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    // Nested lists of lists print exponentially; count what printing would walk.
    let budget = this.limits.maxValueChars / 4;
    let visited = 0;
    const walk = (item: unknown, depth: number): void => {
      budget -= 1;
      visited += 1;
      if (budget < 0 || depth > 64) this.limit('a value is too large or too deeply nested to print', node);
      if (Array.isArray(item)) for (const element of item) walk(element, depth + 1);
      else if (isMap(item)) for (const key of Object.keys(item)) walk(item[key], depth + 1);
      else if (typeof item === 'string') budget -= item.length / 4;
    };
    walk(value, 0);
    this.charge(visited * LIST_ITEM_UNITS);
  }

  private append(output: string, piece: string): string {
    if (output.length + piece.length > this.limits.maxValueChars) this.limit(`the output grew past ${this.limits.maxValueChars} characters`);
    this.charge(piece.length);
    return output + piece;
  }

  /** velocityjs's loop over a node list, with every piece of output sized before it is added. */
  override renderAstList(asts?: AstList, contextId?: string): string {
    const list = asts ?? this.asts ?? [];
    this.step(list.length);
    if (contextId) {
      if (contextId !== this.contextId && !this.conditions.includes(contextId)) this.conditions.unshift(contextId);
      this.contextId = contextId;
    } else {
      this.contextId = '';
    }
    let output = '';
    for (const ast of list as unknown as (string | Node | Node[])[]) {
      if (this.runState.stop) break;
      if (typeof ast === 'string') {
        output = this.append(output, ast);
        continue;
      }
      if (Array.isArray(ast)) {
        output = this.append(output, this.getBlock(ast as unknown as Parameters<Compile['getBlock']>[0]));
        continue;
      }
      switch (ast.type) {
        case 'references':
          output = this.append(output, String(printed(this.getReferences(ast as Reference, true))));
          break;
        case 'set':
          this.setValue(ast as Parameters<Compile['setValue']>[0]);
          break;
        case 'break':
          this.runState.break = true;
          break;
        case 'macro_call':
          output = this.append(output, this.getMacro(ast as Parameters<Compile['getMacro']>[0]));
          break;
        case 'comment':
          break;
        case 'raw':
          output = this.append(output, String(ast.value));
          break;
        default:
          output = this.append(output, this.getBlock(ast as unknown as Parameters<Compile['getBlock']>[0]));
      }
    }
    return output;
  }

  /** `"Hello $name"` and `#eval($text)`: parsed strictly, once per text, and charged by length. */
  override evalStr(source: string): string {
    this.charge(source.length);
    let asts = parsedFragments.get(source);
    if (!asts) {
      try {
        asts = parseStrict(source, this.clock);
      } catch (error) {
        if (error instanceof TemplateParseError)
          throw new SandboxError(error.code, `in a quoted or evaluated text: ${error.failure.message}`, this.lastPosition);
        throw error;
      }
      parsedFragments.set(source, asts);
      if (parsedFragments.size > FRAGMENT_CACHE_SIZE) parsedFragments.delete(parsedFragments.keys().next().value as string);
    }
    return this.renderAstList(asts as unknown as AstList, this.contextId);
  }

  protected override getReferences(ast: Reference, isVal?: boolean): string {
    const pos = (ast as Node).pos;
    if (pos) this.lastPos = pos;
    const value = base.getReferences.call(this, ast, isVal);
    if (isVal) this.checkPrintable(value, ast);
    return value as string;
  }

  /** velocityjs's expressions, with operands that JavaScript would print (`[list] + ""`, `$map == "x"`) sized first. */
  protected override getExpression(ast: Parameters<Compile['getExpression']>[0]): string {
    const node = ast as Node;
    if (node.type !== 'math') {
      const value = this.getLiteral(ast) as unknown;
      this.checkShallow(value, node);
      return value as string;
    }
    const operands = node.expression ?? [];
    const compared: unknown[] = [];
    const operand = (index: number): unknown => {
      const value = this.getExpression(operands[index] as Parameters<Compile['getExpression']>[0]) as unknown;
      if (typeof value === 'object' && value !== null) this.checkPrintable(value, node);
      compared[index] = value;
      return value;
    };

    let result: unknown;
    switch (node.operator) {
      case '+': {
        const left = operand(0) as string;
        const right = operand(1) as string;
        if (typeof left === 'string' || typeof right === 'string' || typeof left === 'object' || typeof right === 'object') {
          this.guard.text(String(left).length + String(right).length);
        }
        result = left + right;
        break;
      }
      case '-':
        result = (operand(0) as number) - (operand(1) as number);
        break;
      case '/':
        result = (operand(0) as number) / (operand(1) as number);
        break;
      case '%':
        result = (operand(0) as number) % (operand(1) as number);
        break;
      case '*':
        result = (operand(0) as number) * (operand(1) as number);
        break;
      case '||':
        result = operand(0) || operand(1);
        break;
      case '&&':
        result = operand(0) && operand(1);
        break;
      case '>':
        result = (operand(0) as number) > (operand(1) as number);
        break;
      case '<':
        result = (operand(0) as number) < (operand(1) as number);
        break;
      case '==':
        result = operand(0) == operand(1);
        break;
      case '>=':
        result = (operand(0) as number) >= (operand(1) as number);
        break;
      case '<=':
        result = (operand(0) as number) <= (operand(1) as number);
        break;
      case '!=':
        result = operand(0) != operand(1);
        break;
      case 'minus':
        result = -(operand(0) as number);
        break;
      case 'not':
        result = !operand(0);
        break;
      case 'parenthesis':
        result = operand(0);
        break;
      default:
        return undefined as unknown as string;
    }
    if (typeof result === 'string') this.charge(result.length);
    // Comparing two texts reads them: charged like a method that does.
    else if (typeof result === 'boolean' && node.operator !== 'not' && typeof compared[0] === 'string' && typeof compared[1] === 'string')
      this.charge(Math.min(compared[0].length, compared[1].length));
    this.checkShallow(result, node);
    return result as string;
  }

  /**
   * `#set($x.key = …)` on data the template was given (`$data`, `$contact`, a row read from
   * them) is refused with its own code: only what the template built may change.
   */
  protected override setValue(ast: Parameters<Compile['setValue']>[0]): void {
    const node = ast as unknown as Node;
    const reference = node.equal?.[0];
    if (!reference || !Array.isArray(reference.path) || reference.path.length === 0) {
      base.setValue.call(this, node);
      return;
    }
    const id = String(reference.id);
    const context = base.getContext.call(this, id);
    const root = ownProperty(context, id);
    // The object the last key would be set on, reached as velocityjs will reach it (indexes included).
    let target: unknown = root;
    for (const key of base.getPathKeys.call(this, reference).slice(0, -1)) {
      target = ownProperty(target, key);
      if (target === undefined) break;
    }
    if (typeof target === 'object' && target !== null && !this.owns(target)) {
      throw new SandboxError(
        'TEMPLATE_DATA_READ_ONLY',
        `$${id} is data given to the template: read-only; build a copy to change it (see "Changing data" in the docs)`,
        this.at(node),
      );
    }
    base.setValue.call(this, node);
    // `#set($new.key = …)` on an unset `$new`: velocityjs built the map, so the template owns it.
    const created = ownProperty(context, id);
    if (created !== root && typeof created === 'object' && created !== null) this.own(created);
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
    const resolved = key.type === 'references' ? this.getReferences(key as Reference) : key.value;
    return nullToUndefined(ownProperty(baseRef, String(resolved)));
  }

  getPropMethod(property: Node, baseRef: unknown, ast: Node): unknown {
    const args = (Array.isArray(property.args) ? property.args : []).map((argument) => this.getLiteral(argument as Literal) as unknown);
    const name = String(property.id);
    try {
      const result = callJavaMethod(baseRef, name, args, this.guard);
      this.checkShallow(result, ast);
      return result === NO_SUCH_METHOD ? undefined : nullToUndefined(result);
    } catch (error) {
      if (error instanceof MethodFailed) throw new SandboxError('TEMPLATE_METHOD_FAILED', error.message, this.at(ast));
      if (error instanceof ExternalDataReadOnly) throw new SandboxError('TEMPLATE_DATA_READ_ONLY', error.message, this.at(ast));
      if (error instanceof SandboxError && error.position === undefined) throw new SandboxError(error.code, error.message, this.at(ast));
      throw error;
    }
  }

  /** `[a..b]` ranges are bounded before the array is built. */
  getArray(literal: Node): unknown[] {
    const values = literal.value as unknown[];
    if (literal.isRange !== true) return this.own(values.map((item) => this.getLiteral(item as Literal) as unknown));
    const [begin, end] = values.map((item) => {
      if (typeof item === 'string') return parseInt(item, 10);
      if (typeof item === 'number') return item;
      return Number(this.getReferences(item as Reference));
    });
    if (begin === undefined || end === undefined || !Number.isInteger(begin) || !Number.isInteger(end)) return [];
    if (Math.abs(end - begin) + 1 > this.limits.maxLoopIterations)
      this.limit(`a range may hold at most ${this.limits.maxLoopIterations} numbers`, literal);
    const result: number[] = [];
    const step = begin <= end ? 1 : -1;
    for (let value = begin; value !== end + step; value += step) result.push(value);
    this.charge(result.length * LIST_ITEM_UNITS);
    return this.own(result);
  }

  /** velocityjs's `#foreach`, with the per-loop and per-render iteration bounds. */
  getBlockEach(block: Node[]): string {
    const ast = block[0] as Node;
    const from = this.getLiteral({ ...(ast.from as object), pos: ast.pos } as Literal) as unknown;
    if (!Array.isArray(from) && !isMap(from)) return '';
    const items: unknown[] = Array.isArray(from) ? from : Object.values(from);
    if (!Array.isArray(from)) this.charge(items.length * MAP_KEY_UNITS);
    if (items.length > this.limits.maxLoopIterations) this.limit(`#foreach may walk at most ${this.limits.maxLoopIterations} items`, ast);
    const body = block.slice(1) as unknown as AstList;
    const contextId = `foreach:sandbox:${(loopIds += 1)}`;
    const local: Record<string, unknown> = {};
    let output = '';
    for (let index = 0; index < items.length; index += 1) {
      if (this.runState.break) break;
      this.iterations += 1;
      if (this.iterations > this.limits.maxTotalIterations)
        this.limit(`the template looped more than ${this.limits.maxTotalIterations} times in all`, ast);
      local[String(ast.to)] = items[index];
      local.foreach = { count: index + 1, index, hasNext: index + 1 < items.length, first: index === 0, last: index + 1 === items.length };
      local.velocityCount = index + 1;
      this.local[contextId] = local;
      output = this.append(output, this.renderAstList(body, contextId));
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
