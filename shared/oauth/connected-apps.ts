import type { Right } from '../accounts/rights';
import { NotFound } from '../errors';
import type { Platform } from '../platform';

/** An app this account authorised, as its settings page lists it. */
export interface ConnectedApp {
  readonly appId: number;
  readonly clientId: string;
  readonly name: string;
  readonly scopes: readonly Right[];
  /** When the account first authorised it (of the authorisations still live). */
  readonly connectedAt: string;
  readonly lastUsedAt: string | null;
}

/** Live grants only: not revoked, and still holding a token that has not expired. */
const LIVE_GRANTS = `
  g.account_id = $1 AND g.revoked_at IS NULL
  AND EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = g.id AND t.retired_at IS NULL AND t.expires_at > $2)`;

export async function listConnectedApps(platform: Platform, accountId: number): Promise<ConnectedApp[]> {
  const { rows } = await platform.db.query<{
    app_id: number;
    client_id: string;
    name: string;
    scopes: Right[];
    connected_at: Date;
    last_used_at: Date | null;
  }>(
    `SELECT a.id AS app_id, a.client_id, a.name,
            ARRAY(SELECT DISTINCT s FROM oauth_grants g2, unnest(g2.scopes) s
                  WHERE g2.id = ANY(array_agg(g.id)) AND s = ANY(a.scopes) ORDER BY s) AS scopes,
            min(g.created_at) AS connected_at, max(g.last_used_at) AS last_used_at
     FROM oauth_grants g JOIN oauth_apps a ON a.id = g.app_id
     WHERE ${LIVE_GRANTS}
     GROUP BY a.id ORDER BY min(g.created_at), a.id`,
    [accountId, platform.clock.now()],
  );
  return rows.map((row) => ({
    appId: row.app_id,
    clientId: row.client_id,
    name: row.name,
    scopes: row.scopes,
    connectedAt: row.connected_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  }));
}

/** Disconnects an app: every grant of it on this account is revoked, its tokens stop at once. */
export async function disconnectApp(platform: Platform, accountId: number, appId: number): Promise<void> {
  const { rowCount } = await platform.db.query(
    'UPDATE oauth_grants SET revoked_at = $3 WHERE account_id = $1 AND app_id = $2 AND revoked_at IS NULL',
    [accountId, appId, platform.clock.now()],
  );
  if (!rowCount) throw new NotFound('connected app', 'CONNECTED_APP_NOT_FOUND');
}
