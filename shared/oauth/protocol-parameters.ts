import { unstorableAt } from '../store/unstorable';

/**
 * The parameters of an OAuth request (a URL's query or a form body). RFC 6749 §3.1/§3.2: a
 * parameter must not be given more than once, so each repeated name is reported, not resolved;
 * a parameter sent without a value counts as omitted.
 */
export function protocolParameters(encoded: string): { parameters: Record<string, string>; repeated: string[]; unstorable: string | undefined } {
  const parameters: Record<string, string> = {};
  const seen = new Set<string>();
  const repeated = new Set<string>();
  let unstorable: string | undefined;
  for (const [name, value] of new URLSearchParams(encoded)) {
    if (seen.has(name)) repeated.add(name);
    seen.add(name);
    if (unstorableAt(value) || unstorableAt(name)) unstorable ??= name;
    if (value !== '' && !(name in parameters)) parameters[name] = value;
  }
  return { parameters, repeated: [...repeated], unstorable };
}
