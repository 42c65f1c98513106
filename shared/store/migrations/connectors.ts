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
];
