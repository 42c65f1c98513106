import * as oauth from 'oauth4webapi';
import { freePort } from '../../local/free-port';
import type { Right } from '../../shared/accounts/rights';
import { createAccountUser } from '../../shared/users/account-users';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { FakeClock } from '../support/fake-clock';
import { Browser } from './browser';

/** The OAuth tests' world: the stack on a known port (its issuer URL), a partner and a customer. */
export interface OAuthWorld {
  readonly stack: TestStack;
  readonly clock: FakeClock;
  readonly issuer: URL;
  readonly as: oauth.AuthorizationServer;
  /** The partner's account, which registers apps. */
  readonly partner: TestAccount;
  /** The account whose user authorises apps. */
  readonly customer: TestAccount & { readonly email: string; readonly password: string };
  /** Another account with its own user, for cross-account checks. */
  readonly other: TestAccount & { readonly email: string; readonly password: string };
}

export const CALLBACK = 'http://127.0.0.1:9/callback';
/** Plain http is only allowed for loopback; insecure discovery likewise only in tests. */
export const insecure = { [oauth.allowInsecureRequests]: true } as const;

export async function startOAuthWorld(env: Record<string, string> = {}): Promise<OAuthWorld> {
  const port = await freePort();
  const issuer = new URL(`http://127.0.0.1:${port}`);
  const clock = new FakeClock();
  const stack = await startTestStack({ port, clock, background: false, env: { PUBLIC_BASE_URL: issuer.origin, ...env } });
  const partner = await stack.createAccount({ name: 'Partner CRM' });
  const withUser = async (name: string, email: string) => {
    const account = await stack.createAccount({ name });
    const password = `correct horse ${name}`;
    await createAccountUser(stack.platform.db, account.accountId, { email, password });
    return { ...account, email, password };
  };
  const customer = await withUser('Customer', 'owner@customer.example');
  const other = await withUser('Other', 'owner@other.example');
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  return { stack, clock, issuer, as, partner, customer, other };
}

export interface RegisteredApp {
  readonly id: number;
  readonly client: oauth.Client;
  readonly clientSecret: string | undefined;
  readonly auth: oauth.ClientAuth;
}

export async function registerApp(
  world: OAuthWorld,
  options: { scopes?: Right[]; redirectUris?: string[]; clientType?: 'confidential' | 'public'; name?: string } = {},
): Promise<RegisteredApp> {
  const response = await world.stack.request(world.partner, 'POST', '/api/v1/oauth/apps', {
    name: options.name ?? 'Partner CRM',
    redirectUris: options.redirectUris ?? [CALLBACK],
    scopes: options.scopes ?? ['fullApi'],
    ...(options.clientType ? { clientType: options.clientType } : {}),
  });
  if (response.status !== 201) throw new Error(`app registration failed: ${response.text}`);
  const secret: string | undefined = response.body.clientSecret;
  return {
    id: response.body.id,
    client: { client_id: response.body.clientId },
    clientSecret: secret,
    auth: secret ? oauth.ClientSecretBasic(secret) : oauth.None(),
  };
}

export interface AuthorizeOptions {
  readonly scope?: string;
  readonly pkce?: boolean;
  readonly user?: { email: string; password: string };
  readonly redirectUri?: string;
}

export interface Callback {
  readonly url: URL;
  readonly state: string;
  readonly verifier: string | undefined;
}

/** The browser part of the flow: authorize URL, login form, consent form, redirect to the callback. */
export async function authorizeInBrowser(world: OAuthWorld, app: RegisteredApp, options: AuthorizeOptions = {}): Promise<Callback> {
  const state = oauth.generateRandomState();
  const verifier = options.pkce === false ? undefined : oauth.generateRandomCodeVerifier();
  const url = new URL(world.as.authorization_endpoint!);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', app.client.client_id);
  url.searchParams.set('redirect_uri', options.redirectUri ?? CALLBACK);
  url.searchParams.set('state', state);
  if (options.scope) url.searchParams.set('scope', options.scope);
  if (verifier) {
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
  }
  const browser = new Browser(world.issuer.origin);
  const login = await browser.get(url.toString());
  if (login.status !== 200) throw new Error(`authorize page answered ${login.status}: ${login.html}`);
  const user = options.user ?? world.customer;
  const consent = await browser.logIn(login, user.email, user.password);
  const approved = await browser.submit(consent, { action: 'approve' });
  if (approved.status !== 302 || !approved.location) throw new Error(`approve answered ${approved.status}: ${approved.html}`);
  return { url: new URL(approved.location), state, verifier };
}

/** The whole flow through to tokens, as a partner's server would run it. */
export async function connect(world: OAuthWorld, app: RegisteredApp, options: AuthorizeOptions = {}): Promise<oauth.TokenEndpointResponse> {
  const callback = await authorizeInBrowser(world, app, options);
  const parameters = oauth.validateAuthResponse(world.as, app.client, callback.url, callback.state);
  const response = await oauth.authorizationCodeGrantRequest(
    world.as,
    app.client,
    app.auth,
    parameters,
    options.redirectUri ?? CALLBACK,
    callback.verifier ?? oauth.nopkce,
    insecure,
  );
  return oauth.processAuthorizationCodeResponse(world.as, app.client, response);
}

export function bearer(token: string): TestAccount {
  return { accountId: 0, apiKey: '', authorization: `Bearer ${token}` };
}

/** Uploads bytes as an app's logo, exactly as given (the harness's `request` sends text). */
export async function uploadLogo(world: OAuthWorld, appId: number, bytes: Buffer, contentType = 'image/png'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${world.stack.url}/api/v1/oauth/apps/${appId}/logo`, {
    method: 'PUT',
    headers: { authorization: world.partner.authorization, 'content-type': contentType },
    body: bytes,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
