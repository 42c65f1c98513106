import type { Migration } from '../migrate';

export const foundationMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts and api keys',
    sql: `
      CREATE TABLE accounts (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name        text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      );

      -- Keys are stored as SHA-256 of the key: a leaked table gives no usable key.
      CREATE TABLE api_keys (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name        text NOT NULL,
        key_hash    bytea NOT NULL UNIQUE,
        key_prefix  text NOT NULL,
        rights      text NOT NULL DEFAULT 'full',
        created_at  timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at  timestamptz
      );
      CREATE INDEX api_keys_account ON api_keys(account_id);
    `,
  },
  {
    version: 2,
    name: 'local runtime secrets and schedules',
    sql: `
      -- Used only by the local runtime's adapters; in AWS these live in Secrets Manager
      -- and EventBridge Scheduler.
      CREATE TABLE local_secrets (
        name        text PRIMARY KEY,
        ciphertext  bytea NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE local_schedules (
        name        text PRIMARY KEY,
        expression  text NOT NULL,
        target      text NOT NULL,
        detail      jsonb NOT NULL,
        enabled     boolean NOT NULL,
        next_run_at timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];
