import { createAccount, issueApiKey } from '../shared/accounts/api-keys';
import type { Platform } from '../shared/platform';

export interface Demo {
  readonly accountId: number;
  readonly apiKey: string;
}

const DEMO_ACCOUNT = 'Demo';

/** The demo account `npm start` prints; created once, its key (re)registered each start. */
export async function seedDemo(platform: Platform, options: { apiKey: string }): Promise<Demo> {
  const { rows } = await platform.db.query<{ id: number }>('SELECT id FROM accounts WHERE name = $1 ORDER BY id LIMIT 1', [DEMO_ACCOUNT]);
  const accountId = rows[0]?.id ?? (await createAccount(platform.db, DEMO_ACCOUNT));
  await issueApiKey(platform.db, accountId, { name: 'demo', key: options.apiKey });
  return { accountId, apiKey: options.apiKey };
}
