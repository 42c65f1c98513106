import type { Pool, PoolClient } from 'pg';
import * as z from 'zod';
import { Conflict, ValidationFailed } from '../errors';
import { hashPassword } from './password-hash';

export interface AccountUser {
  readonly id: number;
  readonly accountId: number;
  readonly email: string;
}

export const userEmail = z
  .email()
  .max(254)
  .transform((email) => email.toLowerCase());
/** Long passphrases welcome; the cap only keeps one login from costing much CPU. */
export const userPassword = z.string().min(10, 'use at least 10 characters').max(256);

export class EmailTaken extends Conflict {
  constructor() {
    super('a user with this email already exists', 'EMAIL_TAKEN');
  }
}

/** Adds a person who can log into the account (the OAuth consent page asks them to). */
export async function createAccountUser(db: Pool | PoolClient, accountId: number, input: { email: string; password: string }): Promise<AccountUser> {
  const email = userEmail.safeParse(input.email);
  if (!email.success) throw new ValidationFailed('invalid email', [{ path: 'email', message: 'not an email address' }]);
  const password = userPassword.safeParse(input.password);
  if (!password.success)
    throw new ValidationFailed('invalid password', [{ path: 'password', message: password.error.issues[0]?.message ?? 'invalid' }]);
  const passwordHash = await hashPassword(password.data);
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO account_users (account_id, email, password_hash) VALUES ($1, $2, $3)
     ON CONFLICT (lower(email)) DO NOTHING RETURNING id`,
    [accountId, email.data, passwordHash],
  );
  if (!rows[0]) throw new EmailTaken();
  return { id: rows[0].id, accountId, email: email.data };
}

/** Sets a user's password (the demo user's is re-set on every start from its configuration). */
export async function setPassword(db: Pool, userId: number, password: string): Promise<void> {
  await db.query('UPDATE account_users SET password_hash = $2 WHERE id = $1', [userId, await hashPassword(password)]);
}

export async function findUserByEmail(db: Pool, email: string): Promise<(AccountUser & { passwordHash: string }) | undefined> {
  const { rows } = await db.query<{ id: number; account_id: number; email: string; password_hash: string }>(
    'SELECT id, account_id, email, password_hash FROM account_users WHERE lower(email) = lower($1)',
    [email],
  );
  const row = rows[0];
  return row ? { id: Number(row.id), accountId: Number(row.account_id), email: row.email, passwordHash: row.password_hash } : undefined;
}
