import type { Pool } from 'pg';
import * as z from 'zod';
import { rights, type Right } from '../accounts/rights';
import { Conflict, NotFound } from '../errors';
import type { Platform } from '../platform';
import { checkLogo } from './app-logo';
import { hashOpaqueToken, newClientId, newOpaqueToken } from './opaque-tokens';
import { redirectUri } from './redirect-uris';

/** Seed 004's scopes (full API, events, events and contacts, messages) and the write-only events-and-contacts one. */
const scopeList = z
  .array(z.enum(rights))
  .min(1, 'choose at least one scope')
  .transform((scopes) => [...new Set(scopes)]);
const redirectUriList = z
  .array(redirectUri)
  .max(10)
  .transform((uris) => [...new Set(uris)]);

export const newAppInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** Optional at registration (seed 004): the app can be created first and its callback set later. */
  redirectUris: redirectUriList.default([]),
  scopes: scopeList,
  /** `public` apps get no secret and must use PKCE (RFC 9700 §2.1.1). */
  clientType: z.enum(['confidential', 'public']).default('confidential'),
});
export type NewApp = z.output<typeof newAppInput>;

export const appChanges = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    redirectUris: redirectUriList.optional(),
    scopes: scopeList.optional(),
  })
  .refine((changes) => Object.keys(changes).length > 0, 'change at least one of name, redirectUris, scopes');
export type AppChanges = z.output<typeof appChanges>;

export interface OAuthApp {
  readonly id: number;
  readonly clientId: string;
  readonly name: string;
  readonly clientType: 'confidential' | 'public';
  readonly redirectUris: readonly string[];
  readonly scopes: readonly Right[];
  readonly hasLogo: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export class AppNotFound extends NotFound {
  constructor() {
    super('app', 'APP_NOT_FOUND');
  }
}

interface AppRow {
  id: number;
  client_id: string;
  name: string;
  public_client: boolean;
  redirect_uris: string[];
  scopes: Right[];
  has_logo: boolean;
  created_at: Date;
  updated_at: Date;
}

const APP_COLUMNS = `id, client_id, name, client_secret_hash IS NULL AS public_client, redirect_uris, scopes,
  logo IS NOT NULL AS has_logo, created_at, updated_at`;

function toApp(row: AppRow): OAuthApp {
  return {
    id: row.id,
    clientId: row.client_id,
    name: row.name,
    clientType: row.public_client ? 'public' : 'confidential',
    redirectUris: row.redirect_uris,
    scopes: row.scopes,
    hasLogo: row.has_logo,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Registers an app for the partner's account; the secret is in the answer once and never again. */
export async function registerApp(platform: Platform, accountId: number, input: NewApp): Promise<OAuthApp & { clientSecret?: string }> {
  const clientSecret = input.clientType === 'confidential' ? newOpaqueToken('sat_cs') : undefined;
  const now = platform.clock.now();
  const { rows } = await platform.db.query<AppRow>(
    `INSERT INTO oauth_apps (account_id, client_id, client_secret_hash, name, redirect_uris, scopes, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ${APP_COLUMNS}`,
    [accountId, newClientId(), clientSecret ? hashOpaqueToken(clientSecret) : null, input.name, input.redirectUris, input.scopes, now],
  );
  return { ...toApp(rows[0]!), ...(clientSecret ? { clientSecret } : {}) };
}

export async function listApps(db: Pool, accountId: number): Promise<OAuthApp[]> {
  const { rows } = await db.query<AppRow>(`SELECT ${APP_COLUMNS} FROM oauth_apps WHERE account_id = $1 ORDER BY id`, [accountId]);
  return rows.map(toApp);
}

export async function getApp(db: Pool, accountId: number, appId: number): Promise<OAuthApp> {
  const { rows } = await db.query<AppRow>(`SELECT ${APP_COLUMNS} FROM oauth_apps WHERE account_id = $1 AND id = $2`, [accountId, appId]);
  if (!rows[0]) throw new AppNotFound();
  return toApp(rows[0]);
}

/** Narrowing an app's scopes narrows every token already issued to it (see access-tokens). */
export async function updateApp(platform: Platform, accountId: number, appId: number, changes: AppChanges): Promise<OAuthApp> {
  const { rows } = await platform.db.query<AppRow>(
    `UPDATE oauth_apps SET name = coalesce($3, name), redirect_uris = coalesce($4, redirect_uris),
       scopes = coalesce($5, scopes), updated_at = $6
     WHERE account_id = $1 AND id = $2 RETURNING ${APP_COLUMNS}`,
    [accountId, appId, changes.name ?? null, changes.redirectUris ?? null, changes.scopes ?? null, platform.clock.now()],
  );
  if (!rows[0]) throw new AppNotFound();
  return toApp(rows[0]);
}

/** A new secret; the old one stops working at once. Tokens already issued keep working. */
export async function regenerateSecret(platform: Platform, accountId: number, appId: number): Promise<{ clientId: string; clientSecret: string }> {
  const clientSecret = newOpaqueToken('sat_cs');
  const { rows } = await platform.db.query<{ client_id: string; was_public: boolean }>(
    `UPDATE oauth_apps SET client_secret_hash = CASE WHEN client_secret_hash IS NULL THEN NULL ELSE $3::bytea END, updated_at = $4
     WHERE account_id = $1 AND id = $2 RETURNING client_id, client_secret_hash IS NULL AS was_public`,
    [accountId, appId, hashOpaqueToken(clientSecret), platform.clock.now()],
  );
  const row = rows[0];
  if (!row) throw new AppNotFound();
  if (row.was_public) throw new Conflict('a public app has no secret; it authenticates with PKCE', 'PUBLIC_CLIENT');
  return { clientId: row.client_id, clientSecret };
}

/** Deleting an app deletes its grants, codes and tokens with it (ON DELETE CASCADE). */
export async function deleteApp(db: Pool, accountId: number, appId: number): Promise<void> {
  const { rowCount } = await db.query('DELETE FROM oauth_apps WHERE account_id = $1 AND id = $2', [accountId, appId]);
  if (!rowCount) throw new AppNotFound();
}

export async function setAppLogo(platform: Platform, accountId: number, appId: number, image: Buffer): Promise<void> {
  const type = checkLogo(image);
  const { rowCount } = await platform.db.query(
    'UPDATE oauth_apps SET logo = $3, logo_content_type = $4, updated_at = $5 WHERE account_id = $1 AND id = $2',
    [accountId, appId, image, type, platform.clock.now()],
  );
  if (!rowCount) throw new AppNotFound();
}

/** The app as the authorize page and the token endpoint see it, by its public client id. */
export interface ClientApp {
  readonly id: number;
  readonly clientId: string;
  readonly name: string;
  readonly secretHash: Buffer | null;
  readonly redirectUris: readonly string[];
  readonly scopes: readonly Right[];
  readonly logo: { readonly bytes: Buffer; readonly contentType: string } | undefined;
}

export async function findClientApp(db: Pool, clientId: string, options: { withLogo?: boolean } = {}): Promise<ClientApp | undefined> {
  const { rows } = await db.query<{
    id: number;
    client_id: string;
    name: string;
    client_secret_hash: Buffer | null;
    redirect_uris: string[];
    scopes: Right[];
    logo: Buffer | null;
    logo_content_type: string | null;
  }>(
    `SELECT id, client_id, name, client_secret_hash, redirect_uris, scopes, ${options.withLogo ? 'logo' : 'NULL::bytea AS logo'}, logo_content_type
     FROM oauth_apps WHERE client_id = $1`,
    [clientId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    clientId: row.client_id,
    name: row.name,
    secretHash: row.client_secret_hash,
    redirectUris: row.redirect_uris,
    scopes: row.scopes,
    logo: row.logo && row.logo_content_type ? { bytes: row.logo, contentType: row.logo_content_type } : undefined,
  };
}
