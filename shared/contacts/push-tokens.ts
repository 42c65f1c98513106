import type { Pool } from 'pg';
import { NotFound } from '../errors';

export interface PushTokenActivation {
  readonly appUuid: string;
  readonly tokenId: string;
  readonly activated: boolean;
  readonly contactId: number | null;
}

export class PushTokenNotFound extends NotFound {
  constructor() {
    super('push token', 'TOKEN_NOT_FOUND');
  }
}

/** contact/token/activated (GET): whether an app's mobile push token is activated. */
export async function getTokenActivation(db: Pool, accountId: number, appUuid: string, tokenId: string): Promise<PushTokenActivation> {
  const { rows } = await db.query<{ activated: boolean | null; contact_id: number | null }>(
    'SELECT activated, contact_id FROM devices WHERE account_id = $1 AND app_uuid = $2 AND push_token = $3',
    [accountId, appUuid, tokenId],
  );
  const row = rows[0];
  if (!row) throw new PushTokenNotFound();
  return { appUuid, tokenId, activated: row.activated ?? false, contactId: row.contact_id === null ? null : Number(row.contact_id) };
}

/**
 * contact/token/activated (PUT): marks an app's push token activated (or not), keeping it as
 * one of the account's devices (seed 000's devices dataset) the first time it is seen.
 */
export async function setTokenActivation(
  db: Pool,
  accountId: number,
  appUuid: string,
  tokenId: string,
  activated: boolean,
): Promise<PushTokenActivation> {
  const { rows } = await db.query<{ contact_id: number | null }>(
    `INSERT INTO devices (account_id, device_id, app_uuid, push_token, activated)
     VALUES ($1, $2 || ':' || $3, $2::uuid, $3, $4)
     ON CONFLICT (account_id, device_id) DO UPDATE SET activated = EXCLUDED.activated, updated_at = now()
     RETURNING contact_id`,
    [accountId, appUuid, tokenId, activated],
  );
  const contactId = rows[0]?.contact_id ?? null;
  return { appUuid, tokenId, activated, contactId: contactId === null ? null : Number(contactId) };
}
