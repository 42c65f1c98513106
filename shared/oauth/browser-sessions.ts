import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens';

export const SESSION_COOKIE = 'satellite_oauth_session';
const SESSION_SECONDS = 60 * 60;

export interface BrowserSession {
  readonly id: string;
  readonly csrfToken: string;
  readonly userId: number | undefined;
  /** `Set-Cookie` to send when the session is new. */
  readonly cookie?: string;
}

function sessionCookie(id: string, secure: boolean): string {
  // Lax: the consent form posts from our own page; cross-site posts arrive without it.
  return `${SESSION_COOKIE}=${id}; Path=/oauth; Max-Age=${SESSION_SECONDS}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export async function findSession(db: Pool, id: string | undefined, now: Date): Promise<BrowserSession | undefined> {
  if (!id) return undefined;
  const { rows } = await db.query<{ csrf_token: string; user_id: number | null }>(
    'SELECT csrf_token, user_id FROM oauth_browser_sessions WHERE id_hash = $1 AND expires_at > $2',
    [hashOpaqueToken(id), now],
  );
  const row = rows[0];
  return row ? { id, csrfToken: row.csrf_token, userId: row.user_id ?? undefined } : undefined;
}

/** A new session; used before login (to carry the CSRF token) and again at login, so a session id planted before login is worthless after it. */
export async function startSession(db: Pool, options: { userId?: number; now: Date; secure: boolean; replacing?: string }): Promise<BrowserSession> {
  const id = newOpaqueToken('sat_session');
  const csrfToken = randomBytes(24).toString('base64url');
  if (options.replacing) await db.query('DELETE FROM oauth_browser_sessions WHERE id_hash = $1', [hashOpaqueToken(options.replacing)]);
  // Expired sessions are swept here, a few at a time, instead of by a schedule of their own.
  await db.query('DELETE FROM oauth_browser_sessions WHERE id_hash IN (SELECT id_hash FROM oauth_browser_sessions WHERE expires_at < $1 LIMIT 100)', [
    options.now,
  ]);
  await db.query(
    `INSERT INTO oauth_browser_sessions (id_hash, csrf_token, user_id, expires_at)
     VALUES ($1, $2, $3, $4::timestamptz + make_interval(secs => $5))`,
    [hashOpaqueToken(id), csrfToken, options.userId ?? null, options.now, SESSION_SECONDS],
  );
  return { id, csrfToken, userId: options.userId, cookie: sessionCookie(id, options.secure) };
}

export function csrfMatches(session: BrowserSession, submitted: string | undefined): boolean {
  if (!submitted) return false;
  const expected = Buffer.from(session.csrfToken);
  const given = Buffer.from(submitted);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
