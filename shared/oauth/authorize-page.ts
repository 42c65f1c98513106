import type { Reply } from '../reply';
import type { Platform } from '../platform';
import { LoginFailed, LoginThrottled, logIn } from '../users/login';
import {
  AuthorizationRefused,
  UntrustedAuthorizationRequest,
  callbackWith,
  checkAuthorizationRequest,
  issueAuthorizationCode,
  type AuthorizationRequest,
} from './authorization-requests';
import { csrfMatches, findSession, SESSION_COOKIE, startSession, type BrowserSession } from './browser-sessions';
import { scopeDescriptions } from './scopes';
import { issuerOf, OAUTH_PATHS } from './server-metadata';

/**
 * The browser side of the authorization-code flow: a login form, then a consent page naming
 * the app, its logo and its scopes. Plain HTML forms that post back to the same URL (the
 * authorization request stays in the query), so any HTTP client can drive them.
 */
export interface AuthorizePageInput {
  /** The authorization request's query string, as sent. */
  readonly rawQuery: string;
  readonly cookies: Readonly<Record<string, string>>;
  readonly sourceIp: string;
}

export interface AuthorizeFormInput extends AuthorizePageInput {
  readonly form: Readonly<Record<string, string>>;
}

export async function showAuthorizePage(platform: Platform, input: AuthorizePageInput): Promise<Reply> {
  const rawQuery = input.rawQuery;
  return answering(platform, async () => {
    const request = await checkAuthorizationRequest(platform.db, rawQuery);
    const now = platform.clock.now();
    const session =
      (await findSession(platform.db, input.cookies[SESSION_COOKIE], now)) ??
      (await startSession(platform.db, { now, secure: secureCookies(platform) }));
    if (session.userId === undefined) return page(200, loginForm(request, session, rawQuery), session);
    return page(200, await consentForm(platform, request, session, rawQuery), session);
  });
}

export async function submitAuthorizeForm(platform: Platform, input: AuthorizeFormInput): Promise<Reply> {
  const rawQuery = input.rawQuery;
  return answering(platform, async (issuer) => {
    const request = await checkAuthorizationRequest(platform.db, rawQuery);
    const now = platform.clock.now();
    const session = await findSession(platform.db, input.cookies[SESSION_COOKIE], now);
    if (!session || !csrfMatches(session, input.form.csrf_token)) {
      return page(403, message('This form has expired or did not come from this page. Go back to the app and start again.'));
    }
    switch (input.form.action) {
      case 'login': {
        try {
          const user = await logIn(platform, { email: input.form.email ?? '', password: input.form.password ?? '', sourceIp: input.sourceIp });
          const signedIn = await startSession(platform.db, { userId: user.id, now, secure: secureCookies(platform), replacing: session.id });
          // Post/redirect/get: reloading the consent page must not resubmit the password.
          return { status: 303, headers: { location: `${OAUTH_PATHS.authorize}?${rawQuery}` }, cookies: [signedIn.cookie!] };
        } catch (error) {
          if (error instanceof LoginThrottled)
            return page(429, loginForm(request, session, rawQuery, 'Too many failed logins. Try again in 15 minutes.'), session);
          if (error instanceof LoginFailed) return page(401, loginForm(request, session, rawQuery, 'Wrong email or password.'), session);
          throw error;
        }
      }
      case 'approve': {
        if (session.userId === undefined) return page(200, loginForm(request, session, rawQuery), session);
        const user = await platform.db.query<{ account_id: number }>('SELECT account_id FROM account_users WHERE id = $1', [session.userId]);
        const accountId = user.rows[0]?.account_id;
        if (accountId === undefined) return page(200, loginForm(request, session, rawQuery), session);
        const code = await issueAuthorizationCode(platform.db, request, { id: session.userId, accountId }, now);
        return redirect(callbackWith(request.redirectUri, { code, state: request.state, iss: issuer }));
      }
      case 'deny':
        return redirect(
          callbackWith(request.redirectUri, {
            error: 'access_denied',
            error_description: 'the user denied access',
            state: request.state,
            iss: issuer,
          }),
        );
      default:
        return page(400, message('Unknown action.'));
    }
  });
}

/** Errors of the authorization request become a page (untrusted client) or a redirect to the app. */
async function answering(platform: Platform, work: (issuer: string) => Promise<Reply>): Promise<Reply> {
  const issuer = issuerOf(platform.config);
  try {
    return await work(issuer);
  } catch (error) {
    if (error instanceof UntrustedAuthorizationRequest) return page(400, message(error.message));
    if (error instanceof AuthorizationRefused) {
      return redirect(
        callbackWith(error.redirectUri, {
          error: error.oauthError.error,
          error_description: error.oauthError.description,
          state: error.state,
          iss: issuer,
        }),
      );
    }
    throw error;
  }
}

function secureCookies(platform: Platform): boolean {
  return issuerOf(platform.config).startsWith('https:');
}

function redirect(location: string): Reply {
  return { status: 302, headers: { location } };
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // No framing (clickjacking the approve button), no scripts, images only inline (the logo).
  // No form-action: browsers apply it to the redirect after the form, which goes to the app.
  'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

function page(status: number, body: string, session?: BrowserSession): Reply {
  return { status, body: layout(body), headers: PAGE_HEADERS, ...(session?.cookie ? { cookies: [session.cookie] } : {}) };
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function layout(content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Satellite — authorize an app</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#222}
img{width:96px;height:96px;object-fit:cover;display:block;margin:0 auto 1rem}label{display:block;margin:.75rem 0}
input[type=email],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}button{padding:.5rem 1rem;margin-right:.5rem}
.error{color:#a00}</style></head><body>
${content}
</body></html>`;
}

function message(text: string): string {
  return `<h1>Cannot authorize</h1><p class="error">${escapeHtml(text)}</p>`;
}

function formAction(rawQuery: string): string {
  // The canonical path, whichever one (seed 004's alias included) the request came in on.
  return escapeHtml(`${OAUTH_PATHS.authorize}?${rawQuery}`);
}

function loginForm(request: AuthorizationRequest, session: BrowserSession, rawQuery: string, error?: string): string {
  return `<h1>Log in to authorize ${escapeHtml(request.app.name)}</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${formAction(rawQuery)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(session.csrfToken)}">
<input type="hidden" name="action" value="login">
<label>Email <input type="email" name="email" autocomplete="username" required></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>`;
}

async function consentForm(platform: Platform, request: AuthorizationRequest, session: BrowserSession, rawQuery: string): Promise<string> {
  const { rows } = await platform.db.query<{ email: string; account: string }>(
    'SELECT u.email, a.name AS account FROM account_users u JOIN accounts a ON a.id = u.account_id WHERE u.id = $1',
    [session.userId],
  );
  const who = rows[0];
  const logo = request.app.logo ? `<img alt="" src="data:${request.app.logo.contentType};base64,${request.app.logo.bytes.toString('base64')}">` : '';
  return `${logo}<h1>${escapeHtml(request.app.name)} wants access to your account</h1>
<p>Signed in as ${escapeHtml(who?.email ?? '')} (account ${escapeHtml(who?.account ?? '')}).</p>
<p>${escapeHtml(request.app.name)} will be able to:</p>
<ul>${request.scopes.map((scope) => `<li data-scope="${scope}">${escapeHtml(scopeDescriptions[scope])}</li>`).join('')}</ul>
<p>It will send you back to ${escapeHtml(new URL(request.redirectUri).origin)}.</p>
<form method="post" action="${formAction(rawQuery)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(session.csrfToken)}">
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>`;
}
