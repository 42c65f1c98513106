import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import * as z from 'zod';
import { withTransaction } from '../store/transaction';
import { createAccountUser, userEmail, userPassword } from '../users/account-users';
import { createAccount, issueApiKey } from './api-keys';

export const provisionRequestSchema = z
  .object({
    account: z.string().trim().min(1).max(200),
    user: z.object({ email: userEmail, password: userPassword.optional() }).strict(),
  })
  .strict();
export type ProvisionRequest = z.output<typeof provisionRequestSchema>;

export interface ProvisionedAccount {
  readonly accountId: number;
  /** Full access; shown this once, only its hash is kept. */
  readonly apiKey: string;
  /** The person who logs into the OAuth consent page; the password is the one given, or a new one shown this once. */
  readonly user: { readonly email: string; readonly password: string };
}

/**
 * A new customer account, all or nothing: the account, its first (full-access) API key and
 * the person who logs into it. What an operator runs once per customer on a deployed stack.
 */
export async function provisionAccount(db: Pool, request: ProvisionRequest): Promise<ProvisionedAccount> {
  const password = request.user.password ?? randomBytes(18).toString('base64url');
  return withTransaction(db, async (client) => {
    const accountId = await createAccount(client, request.account);
    const user = await createAccountUser(client, accountId, { email: request.user.email, password });
    const { key } = await issueApiKey(client, accountId, { name: 'owner' });
    return { accountId, apiKey: key, user: { email: user.email, password } };
  });
}
