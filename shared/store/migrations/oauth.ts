import type { Migration } from '../migrate';

/** Versions 800–899 belong to this capability (issue #8). */
export const oauthMigrations: readonly Migration[] = [
  {
    version: 800,
    name: 'api key rights, account users and login attempts',
    sql: `
      -- The foundation's default ('full') is not a right the API knows; seed 004 names it fullApi.
      UPDATE api_keys SET rights = 'fullApi' WHERE rights = 'full';
      ALTER TABLE api_keys ALTER COLUMN rights SET DEFAULT 'fullApi';
      ALTER TABLE api_keys ADD CONSTRAINT api_keys_rights_known
        CHECK (rights IN ('fullApi', 'events', 'eventsAndContacts', 'eventsAndContactsWrite', 'messages'));

      -- People who log into an account (the OAuth consent page asks them to). An email is
      -- one login across every account, so the login form needs no account field.
      CREATE TABLE account_users (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id    bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        email         text NOT NULL,
        password_hash text NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX account_users_email ON account_users (lower(email));
      CREATE INDEX account_users_account ON account_users (account_id);

      -- Lambdas share no memory, so the login rate limit counts attempts here.
      CREATE TABLE login_attempts (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id   bigint REFERENCES accounts(id) ON DELETE CASCADE,
        source_ip    text NOT NULL,
        succeeded    boolean NOT NULL DEFAULT false,
        attempted_at timestamptz NOT NULL
      );
      CREATE INDEX login_attempts_account ON login_attempts (account_id, attempted_at) WHERE NOT succeeded;
      CREATE INDEX login_attempts_ip ON login_attempts (source_ip, attempted_at) WHERE NOT succeeded;
    `,
  },
  {
    version: 801,
    name: 'oauth apps, grants, codes, tokens and browser sessions',
    sql: `
      -- Registered by a partner's account. The secret is random and high-entropy, so SHA-256
      -- of it is enough; NULL marks a public client, which must use PKCE.
      CREATE TABLE oauth_apps (
        id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id         bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        client_id          text NOT NULL UNIQUE,
        client_secret_hash bytea,
        name               text NOT NULL,
        redirect_uris      text[] NOT NULL DEFAULT '{}',
        scopes             text[] NOT NULL,
        logo               bytea,
        logo_content_type  text,
        created_at         timestamptz NOT NULL,
        updated_at         timestamptz NOT NULL
      );
      CREATE INDEX oauth_apps_account ON oauth_apps (account_id);

      -- One consent of one account to one app; its codes and tokens hang off it, so revoking
      -- the grant (disconnect, code or refresh-token reuse) stops all of them at once, and
      -- deleting the app deletes every grant.
      CREATE TABLE oauth_grants (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        app_id       bigint NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
        account_id   bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        user_id      bigint REFERENCES account_users(id) ON DELETE SET NULL,
        scopes       text[] NOT NULL,
        created_at   timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at   timestamptz
      );
      CREATE INDEX oauth_grants_account ON oauth_grants (account_id, app_id) WHERE revoked_at IS NULL;
      CREATE INDEX oauth_grants_app ON oauth_grants (app_id);

      CREATE TABLE oauth_codes (
        code_hash             bytea PRIMARY KEY,
        grant_id              bigint NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
        redirect_uri          text NOT NULL,
        redirect_uri_was_sent boolean NOT NULL,
        code_challenge        text,
        expires_at            timestamptz NOT NULL,
        used_at               timestamptz
      );
      CREATE INDEX oauth_codes_grant ON oauth_codes (grant_id);

      CREATE TABLE oauth_tokens (
        token_hash  bytea PRIMARY KEY,
        grant_id    bigint NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
        kind        text NOT NULL CHECK (kind IN ('access', 'refresh')),
        scopes      text[] NOT NULL,
        created_at  timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL,
        -- A refresh token is retired when it is exchanged; presenting it again revokes the grant.
        retired_at  timestamptz
      );
      CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);

      -- The authorize page's browser session: a CSRF token before login, the user after.
      CREATE TABLE oauth_browser_sessions (
        id_hash    bytea PRIMARY KEY,
        csrf_token text NOT NULL,
        user_id    bigint REFERENCES account_users(id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 802,
    name: 'expired OAuth codes and tokens are found by their end',
    sql: `
      -- Each new code or token pair sweeps a few that ended more than a day ago.
      CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);
      CREATE INDEX oauth_tokens_expires ON oauth_tokens (expires_at);
    `,
  },
  {
    version: 803,
    name: "grants asked for by seed 004's scope name, and each token pair's predecessor",
    sql: `
      -- The authorization request asked for UseRestApi (every right the app holds): token
      -- answers then name that scope, as seed 004's do.
      ALTER TABLE oauth_grants ADD COLUMN seed_scope boolean NOT NULL DEFAULT false;
      -- The refresh token a pair was issued for: a confidential client retrying a refresh
      -- whose answer it lost gets a new pair in place of this one, not a revoked grant.
      ALTER TABLE oauth_tokens ADD COLUMN issued_from bytea;
      CREATE INDEX oauth_tokens_issued_from ON oauth_tokens (issued_from) WHERE issued_from IS NOT NULL;
    `,
  },
];
