/**
 * The methods a Java Velocity template calls on its data, implemented for plain JSON values
 * (objects as `java.util.Map`, arrays as `java.util.List`, strings as `java.lang.String`).
 * This is the only code a template can call: no method of the host (JavaScript prototypes,
 * functions) is ever reached, because every method call of a template ends here.
 */

/** Thrown when a known method is called with arguments it cannot take (a Java exception). */
export class MethodFailed extends Error {}

/**
 * Thrown when a template changes data it was given (`$data`, `$contact`, and anything read
 * from them): only lists and maps the template built itself may change.
 */
export class ExternalDataReadOnly extends Error {}

/**
 * What a method call may cost, enforced by the sandbox: `charge` takes the characters or
 * items a call touches (and throws when the render's work budget is spent); `text` and
 * `items` refuse a result's size before it is built, so no call can make a value the
 * engine cannot hold (V8 aborts the whole process on a string past its maximum length).
 */
export interface MethodGuard {
  charge(units: number): void;
  text(length: number): void;
  items(count: number): void;
  /** Whether the template built this list or map (only those may change: everything given to it is read-only). */
  owns(value: object): boolean;
  /** Marks a list or map the template built, answering it. */
  own<T extends object>(value: T): T;
  readonly maxTextLength: number;
  readonly maxItems: number;
}

/**
 * Work units per item a call touches, beside one per character: a list item costs what
 * comparing or copying it does, a map key what V8 spends listing keys (about 1 µs each on
 * a large map), so that a unit stays roughly a nanosecond of work whatever the call.
 */
export const LIST_ITEM_UNITS = 10;
export const MAP_KEY_UNITS = 100;

/** A method this allowlist does not know: the template shows the reference as written. */
export const NO_SUCH_METHOD: unique symbol = Symbol('no such method');

export type JsonMap = Record<string, unknown>;

export function isMap(value: unknown): value is JsonMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** An own property only: nothing inherited (`constructor`, `__proto__`, `toString`) is data. */
export function ownProperty(value: unknown, key: string): unknown {
  if (Array.isArray(value)) {
    if (key === 'length') return value.length;
    const index = Number(key);
    return Number.isInteger(index) && index >= 0 && index < value.length ? value[index] : undefined;
  }
  if (typeof value === 'string') return key === 'length' ? value.length : undefined;
  if (isMap(value)) return Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
  return undefined;
}

function requireInteger(value: unknown, method: string): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) throw new MethodFailed(`${method} needs an integer argument`);
  return number;
}

function requireString(value: unknown, method: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new MethodFailed(`${method} needs a text argument`);
}

function writable<T extends object>(value: T, method: string, guard: MethodGuard): T {
  if (!guard.owns(value))
    throw new ExternalDataReadOnly(
      `${method}: data given to the template ($data, $contact) is read-only; build a copy to change it (see "Changing data" in the docs)`,
    );
  return value;
}

/** Java's equals for JSON values: same type and value; lists and maps element-wise. */
export function javaEquals(left: unknown, right: unknown, guard: MethodGuard): boolean {
  if (left === right) return true;
  if (typeof left === 'string' && typeof right === 'string') {
    guard.charge(Math.min(left.length, right.length));
    return false;
  }
  if (Array.isArray(left) && Array.isArray(right)) {
    guard.charge(LIST_ITEM_UNITS);
    return left.length === right.length && left.every((item, index) => javaEquals(item, right[index], guard));
  }
  if (isMap(left) && isMap(right)) {
    const keys = Object.keys(left);
    guard.charge((keys.length + 1) * MAP_KEY_UNITS);
    return (
      keys.length === Object.keys(right).length &&
      keys.every((key) => Object.prototype.hasOwnProperty.call(right, key) && javaEquals(left[key], right[key], guard))
    );
  }
  return false;
}

/** Where `target` occurs in `text`, counted without building anything (at most `cap` + 1 times). */
function occurrences(text: string, target: string, cap: number): number {
  if (target === '') return text.length + 1;
  let count = 0;
  for (let at = text.indexOf(target); at !== -1 && count <= cap; at = text.indexOf(target, at + target.length)) count += 1;
  return count;
}

function beanProperty(receiver: JsonMap, name: string, prefix: 'get' | 'is'): unknown {
  const bare = name.slice(prefix.length);
  const lower = bare.charAt(0).toLowerCase() + bare.slice(1);
  const value = ownProperty(receiver, lower);
  return value === undefined ? ownProperty(receiver, bare) : value;
}

function mapMethod(receiver: JsonMap, name: string, args: readonly unknown[], guard: MethodGuard): unknown {
  switch (name) {
    case 'get':
      // `$map.get(0)`: Velocity users index maps by number when keys are numeric ids.
      return args.length === 1 ? (ownProperty(receiver, String(args[0])) ?? null) : NO_SUCH_METHOD;
    case 'getOrDefault': {
      const value = ownProperty(receiver, String(args[0]));
      return value === undefined ? (args[1] ?? null) : value;
    }
    case 'containsKey':
      return Object.prototype.hasOwnProperty.call(receiver, String(args[0]));
    case 'containsValue': {
      const values = Object.values(receiver);
      guard.charge(values.length * MAP_KEY_UNITS);
      return values.some((value) => javaEquals(value, args[0], guard));
    }
    case 'isEmpty':
      return Object.keys(receiver).length === 0;
    case 'size': {
      const size = Object.keys(receiver).length;
      guard.charge(size * MAP_KEY_UNITS);
      return size;
    }
    case 'keySet':
    case 'values':
    case 'entrySet': {
      const keys = Object.keys(receiver);
      guard.charge(keys.length * MAP_KEY_UNITS);
      if (name === 'keySet') return guard.own(keys);
      return guard.own(name === 'values' ? keys.map((key) => receiver[key]) : keys.map((key) => ({ key, value: receiver[key] })));
    }
    case 'put': {
      const key = requireString(args[0], 'put');
      if (key === '__proto__') throw new MethodFailed('put: reserved key');
      const previous = ownProperty(receiver, key);
      if (previous === undefined) {
        const size = Object.keys(receiver).length;
        guard.charge(size * MAP_KEY_UNITS);
        guard.items(size + 1);
      }
      Object.defineProperty(writable(receiver, 'put', guard), key, { value: args[1], enumerable: true, writable: true, configurable: true });
      return previous ?? null;
    }
    case 'remove': {
      const key = String(args[0]);
      const previous = ownProperty(receiver, key);
      if (previous !== undefined) delete writable(receiver, 'remove', guard)[key];
      return previous ?? null;
    }
    case 'equals':
      return javaEquals(receiver, args[0], guard);
    case 'toString':
      return receiver;
    default:
      if (args.length === 0 && name.length > 3 && name.startsWith('get')) return beanProperty(receiver, name, 'get') ?? NO_SUCH_METHOD;
      if (args.length === 0 && name.length > 2 && name.startsWith('is')) return beanProperty(receiver, name, 'is') ?? NO_SUCH_METHOD;
      return NO_SUCH_METHOD;
  }
}

function listMethod(receiver: unknown[], name: string, args: readonly unknown[], guard: MethodGuard): unknown {
  switch (name) {
    case 'get': {
      // Out of range answers null (quiet), not an exception: a contact with no rows in a
      // source must render `$!data.get('promo_codes').get(0).get('name')` as nothing.
      const index = requireInteger(args[0], 'get');
      return index >= 0 && index < receiver.length ? receiver[index] : null;
    }
    case 'size':
      return receiver.length;
    case 'isEmpty':
      return receiver.length === 0;
    case 'contains':
      guard.charge(receiver.length * LIST_ITEM_UNITS);
      return receiver.some((item) => javaEquals(item, args[0], guard));
    case 'indexOf':
      guard.charge(receiver.length * LIST_ITEM_UNITS);
      return receiver.findIndex((item) => javaEquals(item, args[0], guard));
    case 'subList': {
      const from = requireInteger(args[0], 'subList');
      const to = requireInteger(args[1], 'subList');
      if (from < 0 || to > receiver.length || from > to)
        throw new MethodFailed(`subList(${from}, ${to}) is out of range for a list of ${receiver.length}`);
      guard.charge((to - from) * LIST_ITEM_UNITS);
      return guard.own(receiver.slice(from, to));
    }
    case 'add':
      guard.items(receiver.length + 1);
      writable(receiver, 'add', guard).push(args[0]);
      return true;
    case 'remove': {
      guard.charge(receiver.length * LIST_ITEM_UNITS);
      // Java's two removes: remove(int) takes the item at an index and answers it;
      // remove(Object) takes the first item equal to its argument and answers whether one was.
      if (typeof args[0] === 'number' && Number.isInteger(args[0])) {
        const index = args[0];
        if (index < 0 || index >= receiver.length) return null;
        return writable(receiver, 'remove', guard).splice(index, 1)[0] ?? null;
      }
      const found = receiver.findIndex((item) => javaEquals(item, args[0], guard));
      if (found === -1) return false;
      writable(receiver, 'remove', guard).splice(found, 1);
      return true;
    }
    case 'equals':
      return javaEquals(receiver, args[0], guard);
    case 'toString':
      return receiver;
    default:
      return NO_SUCH_METHOD;
  }
}

function stringMethod(receiver: string, name: string, args: readonly unknown[], guard: MethodGuard): unknown {
  switch (name) {
    case 'length':
    case 'isEmpty':
    case 'toString':
    case 'charAt':
      break;
    default:
      // Every other method reads the whole text (and its argument) at least once.
      guard.charge(receiver.length + (typeof args[0] === 'string' ? args[0].length : 0));
  }
  switch (name) {
    case 'length':
      return receiver.length;
    case 'isEmpty':
      return receiver.length === 0;
    case 'toUpperCase':
      // One character can become three ('ΐ'): the result is checked, not assumed.
      return receiver.toUpperCase();
    case 'toLowerCase':
      return receiver.toLowerCase();
    case 'trim':
      return receiver.trim();
    case 'toString':
      return receiver;
    case 'equals':
      return receiver === args[0];
    case 'equalsIgnoreCase':
      return typeof args[0] === 'string' && receiver.toLowerCase() === args[0].toLowerCase();
    case 'contains':
      return receiver.includes(requireString(args[0], 'contains'));
    case 'startsWith':
      return receiver.startsWith(requireString(args[0], 'startsWith'));
    case 'endsWith':
      return receiver.endsWith(requireString(args[0], 'endsWith'));
    case 'indexOf':
      return receiver.indexOf(requireString(args[0], 'indexOf'));
    case 'charAt': {
      const index = requireInteger(args[0], 'charAt');
      if (index < 0 || index >= receiver.length) throw new MethodFailed(`charAt(${index}) is out of range for a text of ${receiver.length}`);
      return receiver.charAt(index);
    }
    case 'substring': {
      const from = requireInteger(args[0], 'substring');
      const to = args.length > 1 ? requireInteger(args[1], 'substring') : receiver.length;
      if (from < 0 || to > receiver.length || from > to)
        throw new MethodFailed(`substring(${from}, ${to}) is out of range for a text of ${receiver.length}`);
      return receiver.substring(from, to);
    }
    // Java's replace is literal and replaces every occurrence; regular expressions are not
    // offered (replaceAll, split by regex) so no template can stall a worker on backtracking.
    case 'replace': {
      const target = requireString(args[0], 'replace');
      const replacement = requireString(args[1], 'replace');
      const growth = replacement.length - target.length;
      const count = occurrences(receiver, target, growth > 0 ? Math.ceil(guard.maxTextLength / growth) : 0);
      // Sized before it is built: one replace on a long text can ask for gigabytes.
      guard.text(receiver.length + count * growth);
      guard.charge(receiver.length + count * Math.max(growth, 0));
      if (count === 0) return receiver;
      // Java inserts the replacement before every character and at the end for an empty target.
      if (target === '') return replacement + Array.from(receiver, (char) => char).join(replacement) + replacement;
      return receiver.split(target).join(replacement);
    }
    case 'split': {
      const separator = requireString(args[0], 'split');
      const pieces = separator === '' ? receiver.length : occurrences(receiver, separator, guard.maxItems) + 1;
      guard.items(pieces);
      guard.charge(pieces * LIST_ITEM_UNITS);
      return guard.own(receiver.split(separator));
    }
    case 'concat': {
      const tail = requireString(args[0], 'concat');
      guard.text(receiver.length + tail.length);
      return receiver + tail;
    }
    default:
      return NO_SUCH_METHOD;
  }
}

function scalarMethod(receiver: number | boolean, name: string, args: readonly unknown[]): unknown {
  switch (name) {
    case 'toString':
      return String(receiver);
    case 'equals':
      return receiver === args[0];
    case 'intValue':
      return typeof receiver === 'number' ? Math.trunc(receiver) : NO_SUCH_METHOD;
    case 'doubleValue':
      return typeof receiver === 'number' ? receiver : NO_SUCH_METHOD;
    default:
      return NO_SUCH_METHOD;
  }
}

/**
 * Calls `name(args)` on a JSON value the way Java Velocity would on the Java equivalent,
 * within what `guard` allows.
 */
export function callJavaMethod(receiver: unknown, name: string, args: readonly unknown[], guard: MethodGuard): unknown {
  guard.charge(1);
  if (Array.isArray(receiver)) return listMethod(receiver, name, args, guard);
  if (typeof receiver === 'string') return stringMethod(receiver, name, args, guard);
  if (typeof receiver === 'number' || typeof receiver === 'boolean') return scalarMethod(receiver, name, args);
  if (isMap(receiver)) return mapMethod(receiver, name, args, guard);
  return NO_SUCH_METHOD;
}
