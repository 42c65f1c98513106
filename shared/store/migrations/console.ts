import type { Migration } from '../migrate';

/** The web console's sign-in sessions (docs/console.md). */
export const consoleMigrations: readonly Migration[] = [
  {
    version: 1000,
    name: 'console sessions',
    sql: `
      -- Only the SHA-256 of the session id is kept: a leaked table signs nobody in.
      CREATE TABLE console_sessions (
        id_hash     bytea PRIMARY KEY,
        user_id     bigint NOT NULL REFERENCES account_users(id) ON DELETE CASCADE,
        csrf_token  text NOT NULL,
        created_at  timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL
      );
      CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
    `,
  },
];
