import { unstorableAt } from '../store/unstorable';

/** Reads `data` for a triggered message from the event param its "JSON field" names. */
export function dataFromJsonParam(jsonParam: string | undefined): Record<string, unknown> | undefined {
  if (jsonParam === undefined || jsonParam.trim() === '') return {};
  try {
    const parsed = JSON.parse(jsonParam) as unknown;
    // Held to the API's own rules, like any request field: templates walk the data recursively,
    // and what they render is stored.
    if (unstorableAt(parsed)) return undefined;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
