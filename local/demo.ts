import { createAccount, issueApiKey } from '../shared/accounts/api-keys';
import type { Platform } from '../shared/platform';
import { createAccountUser, findUserByEmail, setPassword } from '../shared/users/account-users';

export interface Demo {
  readonly accountId: number;
  readonly apiKey: string;
  /** The person who logs into the demo account (the OAuth consent page asks for it). */
  readonly user: { readonly email: string; readonly password: string };
}

const DEMO_ACCOUNT = 'Demo';

/** The demo account `npm start` prints; created once, its key and user's password (re)set each start. */
export async function seedDemo(platform: Platform, options: { apiKey: string; user: { email: string; password: string } }): Promise<Demo> {
  const { rows } = await platform.db.query<{ id: number }>('SELECT id FROM accounts WHERE name = $1 ORDER BY id LIMIT 1', [DEMO_ACCOUNT]);
  const accountId = rows[0]?.id ?? (await createAccount(platform.db, DEMO_ACCOUNT));
  await issueApiKey(platform.db, accountId, { name: 'demo', key: options.apiKey });
  const existing = await findUserByEmail(platform.db, options.user.email);
  if (!existing) await createAccountUser(platform.db, accountId, options.user);
  else if (existing.accountId === accountId) await setPassword(platform.db, existing.id, options.user.password);
  else throw new Error(`${options.user.email} already logs into another account; set SATELLITE_DEMO_EMAIL to another address`);
  return { accountId, apiKey: options.apiKey, user: options.user };
}
