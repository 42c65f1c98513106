import { publicBaseUrlOf } from '../config';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import type { Principal } from '../accounts/authenticate';
import { Unauthorized } from '../errors';
import { hashOpaqueToken } from '../oauth/opaque-tokens';
import type { Platform } from '../platform';
import { logIn } from '../users/login';

/**
 * The web console's session: an HttpOnly cookie that names a row here, plus a CSRF token the
 * console sends back in a header on every API call. The cookie alone opens nothing, so a form
 * or link on another site (which cannot set headers) never acts for the user; SameSite=Strict
 * keeps the cookie off cross-site requests as well. See docs/console.md.
 */
export const CONSOLE_SESSION_COOKIE = 'satellite_console';
export const CONSOLE_CSRF_HEADER = 'x-satellite-csrf';

export const consoleSessionLimits = {
  /** Signed out after this long without a request. */
  idleSeconds: 30 * 60,
  /** Signed out this long after signing in, however busy. */
  absoluteSeconds: 8 * 60 * 60,
} as const;

export interface ConsoleSession {
  readonly email: string;
  readonly accountId: number;
  readonly csrfToken: string;
  readonly expiresAt: string;
}

export class ConsoleSessionExpired extends Unauthorized {
  constructor() {
    super('your console session has ended; sign in again', 'SESSION_EXPIRED', 'Cookie');
  }
}

function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  // Path=/api: the static console never needs it; the API is the only reader.
  return `${CONSOLE_SESSION_COOKIE}=${value}; Path=/api; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

function secureCookies(platform: Platform): boolean {
  return publicBaseUrlOf(platform.config).startsWith('https:');
}

/** Checks the account user's email and password (rate-limited as the consent page's login is) and opens a session. */
export async function signIn(
  platform: Platform,
  input: { email: string; password: string; sourceIp: string; replacing?: string },
): Promise<{ session: ConsoleSession; cookie: string }> {
  const user = await logIn(platform, input);
  const now = platform.clock.now();
  const id = `sat_console_${randomBytes(32).toString('base64url')}`;
  const csrfToken = randomBytes(24).toString('base64url');
  // A session id planted before sign-in is dropped, and a few expired ones are swept on the way.
  if (input.replacing) await platform.db.query('DELETE FROM console_sessions WHERE id_hash = $1', [hashOpaqueToken(input.replacing)]);
  await platform.db.query('DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash FROM console_sessions WHERE expires_at < $1 LIMIT 100)', [
    now,
  ]);
  const { rows } = await platform.db.query<{ expires_at: Date }>(
    `INSERT INTO console_sessions (id_hash, user_id, csrf_token, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $4::timestamptz + make_interval(secs => $5)) RETURNING expires_at`,
    [hashOpaqueToken(id), user.id, csrfToken, now, consoleSessionLimits.idleSeconds],
  );
  return {
    session: { email: user.email, accountId: user.accountId, csrfToken, expiresAt: rows[0]!.expires_at.toISOString() },
    cookie: sessionCookie(id, consoleSessionLimits.absoluteSeconds, secureCookies(platform)),
  };
}

/**
 * The live session a cookie names, its idle deadline pushed back (never past the absolute
 * one). Undefined when there is none or it has ended.
 */
export async function touchSession(db: Pool, id: string | undefined, now: Date): Promise<ConsoleSession | undefined> {
  if (!id) return undefined;
  const { rows } = await db.query<{ email: string; account_id: string; csrf_token: string; expires_at: Date }>(
    `UPDATE console_sessions s
        SET expires_at = LEAST(s.created_at + make_interval(secs => $4), $2::timestamptz + make_interval(secs => $3))
       FROM account_users u
      WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.id = s.user_id
     RETURNING u.email, u.account_id, s.csrf_token, s.expires_at`,
    [hashOpaqueToken(id), now, consoleSessionLimits.idleSeconds, consoleSessionLimits.absoluteSeconds],
  );
  const row = rows[0];
  return row
    ? { email: row.email, accountId: Number(row.account_id), csrfToken: row.csrf_token, expiresAt: row.expires_at.toISOString() }
    : undefined;
}

/** The caller of an API route who came through the console: the cookie's session and its CSRF header must both match. */
export async function authenticateConsoleSession(db: Pool, id: string, csrfHeader: string | undefined, now: Date): Promise<Principal> {
  const session = await touchSession(db, id, now);
  if (!session || !csrfHeader || !sameText(session.csrfToken, csrfHeader)) throw new ConsoleSessionExpired();
  // An account user administers the whole account, as its full-rights API key does.
  return { accountId: session.accountId, via: 'console', rights: ['fullApi'] };
}

export async function signOut(platform: Platform, id: string | undefined): Promise<string> {
  if (id) await platform.db.query('DELETE FROM console_sessions WHERE id_hash = $1', [hashOpaqueToken(id)]);
  return sessionCookie('', 0, secureCookies(platform));
}

function sameText(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
