import type { Migration } from '../migrate';

/** Versions 400–499 belong to this capability (issue #4). */
export const connectorsMigrations: readonly Migration[] = [
  {
    version: 400,
    name: 'connectors and external data sources',
    sql: `
      -- Settings hold what may be shown back (host, port, user, CA certificate, project);
      -- the password or private key lives only behind secret_ref in the secrets port.
      CREATE TABLE connectors (
        id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id                bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        kind                      text NOT NULL CHECK (kind IN ('postgres', 'bigquery')),
        name                      text NOT NULL,
        settings                  jsonb NOT NULL,
        unique_key_column         text NOT NULL,
        unique_key_contact_field  text NOT NULL,
        secret_ref                text NOT NULL,
        created_at                timestamptz NOT NULL DEFAULT now(),
        updated_at                timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, name)
      );

      -- RESTRICT: a connector that still feeds a source cannot disappear under it.
      CREATE TABLE data_sources (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id    bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        connector_id  bigint NOT NULL REFERENCES connectors(id) ON DELETE RESTRICT,
        name          text NOT NULL,
        dataset       text NOT NULL,
        table_name    text NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, name)
      );
      CREATE INDEX data_sources_connector ON data_sources(connector_id);

      -- Segments and exports register here when they start using a source, so deleting
      -- a source in use is refused unless forced, without this capability knowing their tables.
      CREATE TABLE data_source_uses (
        data_source_id  bigint NOT NULL REFERENCES data_sources(id) ON DELETE CASCADE,
        user_kind       text NOT NULL,
        user_id         text NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (data_source_id, user_kind, user_id)
      );
    `,
  },
  {
    version: 401,
    name: 'data source names in any script, unique ignoring case; legacy ids',
    sql: `
      -- Names are whatever $data.get('…') can hold (seed 000's own example is
      -- 'назва_джерела'), unique per account ignoring case: name_key is the name folded by the
      -- application (Unicode lower case, NFC), since lower() here follows the server's locale.
      -- Names saved before were ASCII identifiers, which lower() folds the same way.
      ALTER TABLE data_sources ADD COLUMN name_key text;
      UPDATE data_sources SET name_key = lower(name);
      ALTER TABLE data_sources ALTER COLUMN name_key SET NOT NULL;
      ALTER TABLE data_sources DROP CONSTRAINT data_sources_account_id_name_key;
      CREATE UNIQUE INDEX data_sources_account_name_key ON data_sources(account_id, name_key);

      -- The id a source had on the platform an account moved from (eSputnik's 1043), which
      -- templates ($data.get('1043')) and jsonParam keys keep using.
      ALTER TABLE data_sources ADD COLUMN legacy_id bigint CHECK (legacy_id > 0);
      CREATE UNIQUE INDEX data_sources_account_legacy_id ON data_sources(account_id, legacy_id) WHERE legacy_id IS NOT NULL;
    `,
  },
  {
    version: 402,
    name: 'a PostgreSQL connector names its schema',
    sql: `
      -- Connectors saved before the setting existed worked in public, as PostgreSQL does.
      UPDATE connectors SET settings = settings || '{"schema": "public"}'::jsonb
       WHERE kind = 'postgres' AND NOT settings ? 'schema';
    `,
  },
];
