import { AppError } from '../errors';
import type { Platform } from '../platform';
import { findUserByEmail, type AccountUser } from './account-users';
import { decoyPasswordHash, verifyPassword } from './password-hash';

/** Failed logins allowed in one window, per account and per source IP, before logins stop. */
export const loginLimits = {
  windowSeconds: 15 * 60,
  failuresPerAccount: 10,
  failuresPerIp: 30,
} as const;

export class LoginFailed extends AppError {
  constructor() {
    super('unauthorized', 'LOGIN_FAILED', 'wrong email or password');
  }
}

export class LoginThrottled extends AppError {
  constructor() {
    super('rate_limited', 'LOGIN_THROTTLED', 'too many failed logins; try again later', undefined, {
      'retry-after': String(loginLimits.windowSeconds),
    });
  }
}

/**
 * Checks an email and password, rate-limited per account and per source IP. The attempt is
 * recorded as failed before the password is checked, so parallel guesses count at once; a
 * correct password while the limit is reached is refused too, or the limit would not slow
 * guessing at all. Refused attempts are not counted.
 */
export async function logIn(platform: Platform, input: { email: string; password: string; sourceIp: string }): Promise<AccountUser> {
  const now = platform.clock.now();
  const user = await findUserByEmail(platform.db, input.email.trim());
  const { rows } = await platform.db.query<{ id: string; account_failures: string; ip_failures: string }>(
    `WITH attempt AS (
       INSERT INTO login_attempts (account_id, source_ip, attempted_at) VALUES ($1, $2, $3) RETURNING id
     )
     SELECT (SELECT id FROM attempt) AS id,
            (SELECT count(*) FROM login_attempts
              WHERE $1::bigint IS NOT NULL AND account_id = $1 AND NOT succeeded
                AND attempted_at > $3::timestamptz - make_interval(secs => $4)) AS account_failures,
            (SELECT count(*) FROM login_attempts
              WHERE source_ip = $2 AND NOT succeeded
                AND attempted_at > $3::timestamptz - make_interval(secs => $4)) AS ip_failures`,
    [user?.accountId ?? null, input.sourceIp, now, loginLimits.windowSeconds],
  );
  const row = rows[0]!;
  // Attempts older than the window count for nothing; each login sweeps a few away.
  await platform.db.query(
    `DELETE FROM login_attempts WHERE id IN (
       SELECT id FROM login_attempts WHERE attempted_at < $1::timestamptz - make_interval(secs => $2) LIMIT 100)`,
    [now, loginLimits.windowSeconds * 2],
  );
  // The statement's own snapshot does not see the row it inserts: compare with ">=".
  if (Number(row.account_failures) >= loginLimits.failuresPerAccount || Number(row.ip_failures) >= loginLimits.failuresPerIp) {
    // A refused attempt guessed nothing: counting it would let anyone who keeps trying hold the
    // account's logins shut for good, instead of until the window after the last real failure.
    await platform.db.query('DELETE FROM login_attempts WHERE id = $1', [row.id]);
    throw new LoginThrottled();
  }
  const matches = await verifyPassword(input.password, user?.passwordHash ?? (await decoyPasswordHash()));
  if (!user || !matches) throw new LoginFailed();
  await platform.db.query('UPDATE login_attempts SET succeeded = true WHERE id = $1', [row.id]);
  return { id: user.id, accountId: user.accountId, email: user.email };
}
