import { z } from 'zod';
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
import { noContent, ok, route, type Route } from '../../../shared/http/route';

/** The web console's sign-in session (docs/console.md); every other call of the console goes to the public routes. */
export const consoleRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/console/session',
    access: 'public',
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
    handle: async ({ platform, cookies, headers }) => {
      const id = cookies[CONSOLE_SESSION_COOKIE];
      if (id) await authenticateConsoleSession(platform.db, id, headers[CONSOLE_CSRF_HEADER], platform.clock.now());
      return { ...noContent(), cookies: [await signOut(platform, id)] };
    },
  }),
];
