/**
 * The methods a Java Velocity template calls on its data, implemented for plain JSON values
 * (objects as `java.util.Map`, arrays as `java.util.List`, strings as `java.lang.String`).
 * This is the only code a template can call: no method of the host (JavaScript prototypes,
 * functions) is ever reached, because every method call of a template ends here.
 */

/** Thrown when a known method is called with arguments it cannot take (a Java exception). */
export class MethodFailed extends Error {}

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

function writable<T extends object>(value: T, method: string): T {
  if (Object.isFrozen(value)) throw new MethodFailed(`${method}: external data is read-only; copy it into a #set variable first`);
  return value;
}

/** Java's equals for JSON values: same type and value; lists and maps element-wise. */
export function javaEquals(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left) && Array.isArray(right)) return left.length === right.length && left.every((item, index) => javaEquals(item, right[index]));
  if (isMap(left) && isMap(right)) {
    const keys = Object.keys(left);
    return keys.length === Object.keys(right).length && keys.every((key) => Object.prototype.hasOwnProperty.call(right, key) && javaEquals(left[key], right[key]));
  }
  return false;
}

function beanProperty(receiver: JsonMap, name: string, prefix: 'get' | 'is'): unknown {
  const bare = name.slice(prefix.length);
  const lower = bare.charAt(0).toLowerCase() + bare.slice(1);
  const value = ownProperty(receiver, lower);
  return value === undefined ? ownProperty(receiver, bare) : value;
}

function mapMethod(receiver: JsonMap, name: string, args: readonly unknown[]): unknown {
  switch (name) {
    case 'get':
      // `$map.get(0)`: Velocity users index maps by number when keys are numeric ids.
      return args.length === 1 ? ownProperty(receiver, String(args[0])) ?? null : NO_SUCH_METHOD;
    case 'getOrDefault': {
      const value = ownProperty(receiver, String(args[0]));
      return value === undefined ? args[1] ?? null : value;
    }
    case 'containsKey':
      return Object.prototype.hasOwnProperty.call(receiver, String(args[0]));
    case 'containsValue':
      return Object.values(receiver).some((value) => javaEquals(value, args[0]));
    case 'isEmpty':
      return Object.keys(receiver).length === 0;
    case 'size':
      return Object.keys(receiver).length;
    case 'keySet':
      return Object.keys(receiver);
    case 'values':
      return Object.values(receiver);
    case 'entrySet':
      return Object.entries(receiver).map(([key, value]) => ({ key, value }));
    case 'put': {
      const key = requireString(args[0], 'put');
      if (key === '__proto__') throw new MethodFailed('put: reserved key');
      const previous = ownProperty(receiver, key);
      Object.defineProperty(writable(receiver, 'put'), key, { value: args[1], enumerable: true, writable: true, configurable: true });
      return previous ?? null;
    }
    case 'remove': {
      const key = String(args[0]);
      const previous = ownProperty(receiver, key);
      if (previous !== undefined) delete writable(receiver, 'remove')[key];
      return previous ?? null;
    }
    case 'equals':
      return javaEquals(receiver, args[0]);
    case 'toString':
      return receiver;
    default:
      if (args.length === 0 && name.length > 3 && name.startsWith('get')) return beanProperty(receiver, name, 'get') ?? NO_SUCH_METHOD;
      if (args.length === 0 && name.length > 2 && name.startsWith('is')) return beanProperty(receiver, name, 'is') ?? NO_SUCH_METHOD;
      return NO_SUCH_METHOD;
  }
}

function listMethod(receiver: unknown[], name: string, args: readonly unknown[]): unknown {
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
      return receiver.some((item) => javaEquals(item, args[0]));
    case 'indexOf':
      return receiver.findIndex((item) => javaEquals(item, args[0]));
    case 'subList': {
      const from = requireInteger(args[0], 'subList');
      const to = requireInteger(args[1], 'subList');
      if (from < 0 || to > receiver.length || from > to) throw new MethodFailed(`subList(${from}, ${to}) is out of range for a list of ${receiver.length}`);
      return receiver.slice(from, to);
    }
    case 'add':
      writable(receiver, 'add').push(args[0]);
      return true;
    case 'remove': {
      const index = requireInteger(args[0], 'remove');
      if (index < 0 || index >= receiver.length) return null;
      return writable(receiver, 'remove').splice(index, 1)[0] ?? null;
    }
    case 'equals':
      return javaEquals(receiver, args[0]);
    case 'toString':
      return receiver;
    default:
      return NO_SUCH_METHOD;
  }
}

function stringMethod(receiver: string, name: string, args: readonly unknown[]): unknown {
  switch (name) {
    case 'length':
      return receiver.length;
    case 'isEmpty':
      return receiver.length === 0;
    case 'toUpperCase':
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
      if (from < 0 || to > receiver.length || from > to) throw new MethodFailed(`substring(${from}, ${to}) is out of range for a text of ${receiver.length}`);
      return receiver.substring(from, to);
    }
    // Java's replace is literal and replaces every occurrence; regular expressions are not
    // offered (replaceAll, split by regex) so no template can stall a worker on backtracking.
    case 'replace':
      return receiver.split(requireString(args[0], 'replace')).join(requireString(args[1], 'replace'));
    case 'split':
      return receiver.split(requireString(args[0], 'split'));
    case 'concat':
      return receiver + requireString(args[0], 'concat');
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

/** Calls `name(args)` on a JSON value the way Java Velocity would on the Java equivalent. */
export function callJavaMethod(receiver: unknown, name: string, args: readonly unknown[]): unknown {
  if (Array.isArray(receiver)) return listMethod(receiver, name, args);
  if (typeof receiver === 'string') return stringMethod(receiver, name, args);
  if (typeof receiver === 'number' || typeof receiver === 'boolean') return scalarMethod(receiver, name, args);
  if (isMap(receiver)) return mapMethod(receiver, name, args);
  return NO_SUCH_METHOD;
}
