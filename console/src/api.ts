/**
 * The console's only way to the server: the public /api/v1 routes, with the session cookie
 * (sent by the browser) and the session's CSRF token in a header (docs/console.md).
 */
export interface Session {
  readonly email: string;
  readonly accountId: number;
  readonly csrfToken: string;
  readonly expiresAt: string;
}

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly FieldError[] = [],
  ) {
    super(message);
  }

  /** The server's message for one input, by the name the route gave it (`host` for `body.host`). */
  fieldMessage(field: string): string | undefined {
    return this.details.find((detail) => detail.path.replace(/^(body|query|path)\./, '') === field)?.message;
  }
}

const CSRF_HEADER = 'x-satellite-csrf';
let csrfToken: string | undefined;
let onSessionEnded: () => void = () => undefined;

/** The session every call from now on authenticates with, and what to do when the server says it has ended. */
export function adoptSession(session: Session | undefined, ended: () => void): void {
  csrfToken = session?.csrfToken;
  onSessionEnded = ended;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await callWithHeaders<T>(method, path, body)).body;
}

/** `call`, also giving back the answer's headers (lists carry their total in `TotalCount`). */
export async function callWithHeaders<T>(method: string, path: string, body?: unknown): Promise<{ body: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  // Before sign-in there is no token yet; the header's presence alone is what sign-in asks for.
  headers[CSRF_HEADER] = csrfToken ?? 'sign-in';
  // A file (an app's logo) goes as it is; anything else as JSON.
  const raw = body instanceof Blob;
  if (body !== undefined) headers['content-type'] = raw ? body.type || 'application/octet-stream' : 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'Satellite cannot be reached. Check your connection and try again.');
  }
  const text = await response.text();
  const parsed: unknown = text ? safeJson(text) : undefined;
  if (response.ok) return { body: parsed as T, headers: response.headers };
  const error = (parsed as { error?: { code?: string; message?: string; details?: FieldError[] } } | undefined)?.error;
  const failure = new ApiError(
    response.status,
    error?.code ?? 'HTTP_' + response.status,
    error?.message ?? `request failed (${response.status})`,
    error?.details ?? [],
  );
  if (response.status === 401 && csrfToken && !path.startsWith('/api/v1/console/session')) onSessionEnded();
  throw failure;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const signIn = (email: string, password: string) => call<Session>('POST', '/api/v1/console/session', { email, password });
export const currentSession = () => call<Session>('GET', '/api/v1/console/session');
export const signOut = () => call<void>('DELETE', '/api/v1/console/session');
