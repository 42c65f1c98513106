import { destinationPolicy } from '../net/destination-guard';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';
import { ActivitiesNotFound, WebhookNotSet, WebhookNotSuspended, WebhookUrlRefused, WebhookVerificationFailed } from './errors';
import { publishRecordedActivities, relayWebhookOutbox } from './outbox';
import { retrySchedule, type RetrySchedule } from './backoff';
import { newSigningSecret, secretHint } from './signature';
import { sendWebhookRequest } from './webhook-request';

/** A rotated-out secret keeps signing beside the new one this long, so receivers can switch over. */
const PREVIOUS_SECRET_HOURS = 24;

/**
 * The webhook as GET shows it: the signing secret only as a hint, since anyone who can read
 * settings would otherwise read a credential that forges our requests. The secret itself is
 * answered once, by the call that makes it (`WebhookWithSecret`).
 */
export interface WebhookView {
  readonly url: string;
  readonly state: 'active' | 'suspended';
  readonly secretHint: string;
  readonly previousSecretExpiresAt?: string;
  readonly consecutiveFailures: number;
  /** While a failed POST waits for its retry: when it is sent again, at the earliest. */
  readonly nextAttemptAt?: string;
  readonly retrySchedule: RetrySchedule;
  readonly pendingActivities: number;
  readonly suspendedAt?: string;
  readonly suspendedReason?: string;
  readonly verifiedAt: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface EndpointRow {
  url: string;
  state: 'active' | 'suspended';
  secret: string;
  previous_secret_expires_at: Date | null;
  consecutive_failures: number;
  next_attempt_at: Date | null;
  pending: number;
  suspended_at: Date | null;
  suspended_reason: string | null;
  verified_at: Date;
  created_at: Date;
  updated_at: Date;
}

/** Checks the URL's form and the receiver's answer to a GET; only a 2xx answer lets it be saved. */
async function verifyReceiver(platform: Platform, raw: string): Promise<URL> {
  const url = new URL(raw);
  const allowed = platform.config.production ? ['https:'] : ['https:', 'http:'];
  if (!allowed.includes(url.protocol)) {
    throw new WebhookUrlRefused(
      platform.config.production ? 'the webhook URL must use https' : 'the webhook URL must use http or https',
      'WEBHOOK_URL_SCHEME',
    );
  }
  if (url.username || url.password) {
    throw new WebhookUrlRefused('the webhook URL may not carry credentials; verify the webhook-signature header instead', 'WEBHOOK_URL_CREDENTIALS');
  }
  const outcome = await sendWebhookRequest({
    method: 'GET',
    url,
    headers: { 'user-agent': 'Satellite-Webhooks/1.0', accept: '*/*' },
    timeoutMs: platform.config.webhookTimeoutMs,
    destinations: destinationPolicy(platform.config),
  });
  if (outcome.kind === 'failed') {
    if (outcome.code === 'DNS_NOT_FOUND' || outcome.code === 'DESTINATION_NOT_ALLOWED')
      throw new WebhookVerificationFailed(outcome.code, outcome.error);
    throw new WebhookVerificationFailed('WEBHOOK_UNREACHABLE', `the verification GET failed: ${outcome.error} (${outcome.code})`);
  }
  if (outcome.status < 200 || outcome.status > 299) {
    throw new WebhookVerificationFailed(
      'WEBHOOK_VERIFICATION_FAILED',
      `the verification GET answered HTTP ${outcome.status}; a 2xx answer is required`,
    );
  }
  return url;
}

export type WebhookWithSecret = WebhookView & { readonly secret?: string };

/**
 * Sets (or changes) the account's webhook URL after a successful verification GET. A new
 * webhook answers its signing secret, once; a changed URL keeps the secret and does not show it.
 */
export async function setWebhook(platform: Platform, accountId: number, raw: string): Promise<WebhookWithSecret> {
  const url = await verifyReceiver(platform, raw);
  const now = platform.clock.now();
  const { rows } = await platform.db.query<{ secret: string; created: boolean }>(
    `INSERT INTO webhook_endpoints (account_id, url, secret, verified_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (account_id) DO UPDATE SET url = EXCLUDED.url, verified_at = EXCLUDED.verified_at, updated_at = now()
     RETURNING secret, (xmax = 0) AS created`,
    [accountId, url.toString(), newSigningSecret(), now],
  );
  const view = await getWebhook(platform, accountId);
  return rows[0]?.created ? { ...view, secret: rows[0].secret } : view;
}

export async function getWebhook(platform: Platform, accountId: number): Promise<WebhookView> {
  const { rows } = await platform.db.query<EndpointRow>(
    `SELECT url, state, secret, previous_secret_expires_at, consecutive_failures, next_attempt_at, suspended_at, suspended_reason,
            verified_at, created_at, updated_at,
            (SELECT count(*)::int FROM webhook_outbox WHERE account_id = $1) AS pending
       FROM webhook_endpoints WHERE account_id = $1`,
    [accountId],
  );
  const row = rows[0];
  if (!row) throw new WebhookNotSet();
  const now = platform.clock.now();
  return {
    url: row.url,
    state: row.state,
    secretHint: secretHint(row.secret),
    ...(row.previous_secret_expires_at && row.previous_secret_expires_at > now
      ? { previousSecretExpiresAt: row.previous_secret_expires_at.toISOString() }
      : {}),
    consecutiveFailures: row.consecutive_failures,
    ...(row.next_attempt_at && row.state === 'active' ? { nextAttemptAt: row.next_attempt_at.toISOString() } : {}),
    retrySchedule: retrySchedule(platform.config.webhookRetryBaseSeconds),
    pendingActivities: row.pending,
    ...(row.suspended_at ? { suspendedAt: row.suspended_at.toISOString() } : {}),
    ...(row.suspended_reason ? { suspendedReason: row.suspended_reason } : {}),
    verifiedAt: row.verified_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Stops delivery: the endpoint and its undelivered activities go; queued messages find no lane and are dropped. */
export async function deleteWebhook(platform: Platform, accountId: number): Promise<void> {
  await withTransaction(platform.db, async (client) => {
    await client.query('DELETE FROM webhook_endpoints WHERE account_id = $1', [accountId]);
    await client.query('DELETE FROM webhook_outbox WHERE account_id = $1', [accountId]);
  });
}

/** A new signing secret, answered this once; the old one keeps signing beside it for 24 hours. */
export async function rotateWebhookSecret(platform: Platform, accountId: number): Promise<WebhookView & { readonly secret: string }> {
  const expires = new Date(platform.clock.now().getTime() + PREVIOUS_SECRET_HOURS * 3_600_000);
  const secret = newSigningSecret();
  const { rowCount } = await platform.db.query(
    `UPDATE webhook_endpoints
        SET previous_secret = secret, previous_secret_expires_at = $2, secret = $3, updated_at = now()
      WHERE account_id = $1`,
    [accountId, expires, secret],
  );
  if (rowCount === 0) throw new WebhookNotSet();
  return { ...(await getWebhook(platform, accountId)), secret };
}

/**
 * Reopens a suspended webhook: a new lane replays every parked activity in order, and
 * messages still queued for the old lane are dropped when they come up.
 */
export async function resumeWebhook(platform: Platform, accountId: number): Promise<{ replayed: number }> {
  await withTransaction(platform.db, async (client) => {
    const { rows } = await client.query<{ state: string }>('SELECT state FROM webhook_endpoints WHERE account_id = $1 FOR UPDATE', [accountId]);
    if (!rows[0]) throw new WebhookNotSet();
    if (rows[0].state !== 'suspended') throw new WebhookNotSuspended();
    await client.query(
      `UPDATE webhook_endpoints
          SET state = 'active', lane = nextval('webhook_lanes'), relayed_through = 0, consecutive_failures = 0, next_attempt_at = NULL,
              suspended_at = NULL, suspended_reason = NULL, updated_at = now()
        WHERE account_id = $1`,
      [accountId],
    );
  });
  return { replayed: await relayWebhookOutbox(platform, accountId) };
}

/** Puts activities of the account on its lane again, behind whatever is already waiting. */
export async function redeliverActivities(platform: Platform, accountId: number, activityIds: readonly number[]): Promise<{ queued: number }> {
  const unique = [...new Set(activityIds)];
  await withTransaction(platform.db, async (client) => {
    const endpoint = await client.query('SELECT 1 FROM webhook_endpoints WHERE account_id = $1', [accountId]);
    if (endpoint.rowCount === 0) throw new WebhookNotSet();
    const { rows } = await client.query<{ id: number }>('SELECT id FROM contact_activities WHERE account_id = $1 AND id = ANY($2::bigint[])', [
      accountId,
      unique,
    ]);
    const found = new Set(rows.map((row) => row.id));
    const missing = unique.filter((id) => !found.has(id));
    if (missing.length > 0) throw new ActivitiesNotFound(missing);
    await publishRecordedActivities(client, accountId, unique);
  });
  await relayWebhookOutbox(platform, accountId);
  return { queued: unique.length };
}
