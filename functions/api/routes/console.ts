import * as z from 'zod';
import {
  CONSOLE_CSRF_HEADER,
  CONSOLE_SESSION_COOKIE,
  ConsoleSessionExpired,
  authenticateConsoleSession,
  signIn,
  signOut,
  touchSession,
} from '../../../shared/console/sessions';
import { Forbidden } from '../../../shared/errors';
import { json, nothing, numericId, timestamp } from '../../../shared/http/answers';
import { noContent, ok, route, type Route } from '../../../shared/http/route';

const sessionView = z.object({ email: z.string(), accountId: numericId, csrfToken: z.string(), expiresAt: timestamp });

/** The web console's sign-in session (docs/console.md); every other call of the console goes to the public routes. */
export const consoleRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/console/session',
    access: 'public',
    docs: {
      summary: 'Sign in to the web console',
      description:
        "The account user's email and password (the OAuth consent page's login). Sets an HttpOnly, SameSite=Strict session cookie; every later call sends `X-Satellite-CSRF` with the answer's `csrfToken` (docs/console.md).",
      responses: { 201: json('The session.', sessionView) },
      errors: { 401: ['LOGIN_FAILED'], 403: ['CSRF_HEADER_REQUIRED'], 429: ['LOGIN_THROTTLED'] },
    },
    body: z.object({ email: z.string().trim().min(1).max(254), password: z.string().min(1).max(256) }).strict(),
    handle: async ({ platform, body, cookies, headers, sourceIp }) => {
      // No form of another site can set a header: without it, a page elsewhere could sign the
      // browser into an account of its choosing (login CSRF).
      if (!headers[CONSOLE_CSRF_HEADER]) throw new Forbidden(`send the ${CONSOLE_CSRF_HEADER} header (any value) to sign in`, 'CSRF_HEADER_REQUIRED');
      const { session, cookie } = await signIn(platform, { ...body, sourceIp, replacing: cookies[CONSOLE_SESSION_COOKIE] });
      return { status: 201, body: session, cookies: [cookie] };
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/console/session',
    access: 'public',
    docs: {
      summary: 'The console session of this browser',
      description: 'Hands the CSRF token back to a reloaded page; other sites cannot read this answer.',
      responses: { 200: json('The session.', sessionView) },
      errors: { 401: ['SESSION_EXPIRED'] },
    },
    // Hands the CSRF token back to a reloaded page; other sites cannot read this answer (no CORS).
    handle: async ({ platform, cookies }) => {
      const session = await touchSession(platform.db, cookies[CONSOLE_SESSION_COOKIE], platform.clock.now());
      if (!session) throw new ConsoleSessionExpired();
      return ok(session);
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/console/session',
    access: 'public',
    docs: {
      summary: 'Sign out of the web console',
      responses: { 204: nothing('Signed out; the cookie is cleared.') },
      errors: { 401: ['SESSION_EXPIRED'] },
    },
    handle: async ({ platform, cookies, headers }) => {
      const id = cookies[CONSOLE_SESSION_COOKIE];
      if (id) await authenticateConsoleSession(platform.db, id, headers[CONSOLE_CSRF_HEADER], platform.clock.now());
      return { ...noContent(), cookies: [await signOut(platform, id)] };
    },
  }),
];
