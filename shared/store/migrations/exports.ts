import type { Migration } from '../migrate';

/** The platform tables an export reads, each with the id its keyset walks. */
const trackedTables = [
  'contacts',
  'devices',
  'messages',
  'broadcasts',
  'contact_activities',
  'orders',
  'order_items',
  'revenue_attributions',
] as const;

const changeTracking = trackedTables
  .map(
    (table) => `
      ALTER TABLE ${table} ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
      CREATE TRIGGER ${table}_export_change BEFORE UPDATE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION export_mark_changed();
      CREATE INDEX ${table}_export_changes ON ${table}(account_id, change_xid, id);`,
  )
  .join('\n');

/**
 * Versions 600–699: scheduled data export (issue #6).
 *
 * Change tracking: every exported platform row carries `change_xid`, the id of the
 * transaction that last wrote it. An export pass reads the rows whose `change_xid` lies in
 * [cursor, pg_snapshot_xmin(now)) — every transaction below that bound has finished, so a
 * transaction that commits late (with an older `updated_at` than rows already exported)
 * always has an id at or above the bound and is picked up by a later pass. Wall-clock
 * timestamps cannot give that guarantee.
 */
export const exportsMigrations: readonly Migration[] = [
  {
    version: 600,
    name: 'exports, runs and change tracking',
    sql: `
      CREATE TABLE exports (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id     bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        connector_id   bigint NOT NULL,
        -- postgres or bigquery, copied from the connector when the export is created
        destination    text NOT NULL CHECK (destination IN ('postgres', 'bigquery')),
        datasets       text[] NOT NULL,
        -- 15m, 1h, 6h, 1d
        interval       text NOT NULL,
        -- PostgreSQL schema or BigQuery dataset
        target_schema  text NOT NULL,
        paused         boolean NOT NULL DEFAULT false,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX exports_account ON exports(account_id, id);

      CREATE TABLE export_runs (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        export_id      bigint NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
        account_id     bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        dataset        text NOT NULL,
        -- schedule or manual
        trigger        text NOT NULL,
        -- queued, running, retrying, succeeded, failed
        status         text NOT NULL DEFAULT 'queued',
        rows_written   bigint NOT NULL DEFAULT 0,
        attempts       integer NOT NULL DEFAULT 0,
        error_code     text,
        error_message  text,
        queued_at      timestamptz NOT NULL DEFAULT now(),
        started_at     timestamptz,
        finished_at    timestamptz,
        updated_at     timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX export_runs_export ON export_runs(export_id, id DESC);
      -- Two runs of one export and dataset never overlap: at most one is active.
      CREATE UNIQUE INDEX export_runs_one_active ON export_runs(export_id, dataset)
        WHERE status IN ('queued', 'running', 'retrying');

      CREATE FUNCTION export_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.change_xid := pg_current_xact_id();
        RETURN NEW;
      END $$;
      ${changeTracking}

      -- Rows whose exported columns come from another table change with it.
      CREATE FUNCTION export_contact_channel_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE contacts SET change_xid = pg_current_xact_id()
         WHERE id IN (CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.contact_id END,
                      CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.contact_id END);
        RETURN NULL;
      END $$;
      CREATE TRIGGER contact_channels_export_change AFTER INSERT OR UPDATE OR DELETE ON contact_channels
        FOR EACH ROW EXECUTE FUNCTION export_contact_channel_changed();

      CREATE FUNCTION export_contact_identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE devices SET change_xid = pg_current_xact_id() WHERE contact_id = NEW.id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER contacts_export_identity_change AFTER UPDATE OF external_customer_id ON contacts
        FOR EACH ROW WHEN (OLD.external_customer_id IS DISTINCT FROM NEW.external_customer_id)
        EXECUTE FUNCTION export_contact_identity_changed();

      -- Seed 000: revenue rows of orders placed after 2024-03-08 follow their order's changes.
      CREATE FUNCTION export_order_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.ordered_at >= timestamptz '2024-03-09 00:00:00+00' THEN
          UPDATE revenue_attributions SET change_xid = pg_current_xact_id() WHERE order_id = NEW.id;
        END IF;
        IF OLD.ordered_at IS DISTINCT FROM NEW.ordered_at THEN
          UPDATE order_items SET change_xid = pg_current_xact_id() WHERE order_id = NEW.id;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER orders_export_dependents_change AFTER UPDATE ON orders
        FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
        EXECUTE FUNCTION export_order_changed();
    `,
  },
  {
    version: 601,
    name: 'BigQuery export cursors',
    sql: `
      -- BigQuery has no transaction to keep a cursor beside the rows, so it lives here and
      -- moves only after the pass's MERGE has succeeded. One per export, dataset and
      -- destination (project.dataset): pointing an export elsewhere starts a full export there.
      CREATE TABLE export_bigquery_cursors (
        export_id    bigint NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
        dataset      text NOT NULL,
        destination  text NOT NULL,
        -- every change below low is merged into the destination table
        low_xid      xid8 NOT NULL DEFAULT '0',
        -- the bound of the pass under way (NULL between passes)
        high_xid     xid8,
        -- the last row in the staging table, and the chunk being loaded after it: written
        -- before its load job starts, so a retry loads exactly that chunk under the same job id
        staged_xid   xid8,
        staged_id    bigint,
        planned_xid  xid8,
        planned_id   bigint,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (export_id, dataset, destination)
      );
    `,
  },
  {
    version: 602,
    name: 'channel changes touch their contact once per transaction',
    sql: `
      -- A contact written in this transaction already carries its id: touching it again for
      -- each of its channels only made a new row version per channel (every add/update paid it).
      CREATE OR REPLACE FUNCTION export_contact_channel_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE contacts SET change_xid = pg_current_xact_id()
         WHERE id IN (CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.contact_id END,
                      CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.contact_id END)
           AND change_xid <> pg_current_xact_id();
        RETURN NULL;
      END $$;
    `,
  },
  {
    version: 603,
    name: 'a channel change moves its contact updated_at',
    sql: `
      -- An add/update that changes only channels leaves the contact row alone (a contact sent
      -- again as it is is not rewritten); the channel change still shows on the contact.
      CREATE OR REPLACE FUNCTION export_contact_channel_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE contacts SET change_xid = pg_current_xact_id(), updated_at = now()
         WHERE id IN (CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.contact_id END,
                      CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.contact_id END)
           AND change_xid <> pg_current_xact_id();
        RETURN NULL;
      END $$;
    `,
  },
  {
    version: 604,
    name: 'deleted contacts are exported again once, with their deletion time',
    sql: `
      -- Destinations gained satelliteDeletedAt; contacts deleted before it would otherwise
      -- keep an empty one until they next change. The trigger gives each a new change_xid.
      UPDATE contacts SET change_xid = change_xid WHERE deleted_at IS NOT NULL;
    `,
  },
  {
    version: 605,
    name: 'BigQuery passes have ids of their own',
    sql: `
      -- A pass's load jobs were named by the chunk positions alone, so a later pass over the
      -- same positions (into another dataset, or after an abandoned pass) found them done.
      -- NULL for a pass begun before: it keeps the job names it began with.
      ALTER TABLE export_bigquery_cursors ADD COLUMN pass_id text;
    `,
  },
  {
    version: 606,
    name: "a new contact's channels do not write it again",
    sql: `
      -- Every channel inserted ran the trigger below, whose UPDATE of the contact found nothing
      -- to do when the contact was inserted in the same transaction (its change_xid is already
      -- this one's): a trigger call and a statement for nothing on every create. save_contact
      -- names the contact it inserts in a transaction-local setting (migration 308); its
      -- channels skip the trigger. Updates and deletes of channels still fire it.
      DROP TRIGGER contact_channels_export_change ON contact_channels;
      CREATE TRIGGER contact_channels_export_insert AFTER INSERT ON contact_channels
        FOR EACH ROW WHEN (NEW.contact_id::text IS DISTINCT FROM current_setting('satellite.inserted_contact', true))
        EXECUTE FUNCTION export_contact_channel_changed();
      CREATE TRIGGER contact_channels_export_change AFTER UPDATE OR DELETE ON contact_channels
        FOR EACH ROW EXECUTE FUNCTION export_contact_channel_changed();
    `,
  },
  {
    version: 607,
    name: 'exports carry every language version, one spelling per media type, email status and deletions of messages and order items',
    sql: `
      -- Written to run again unchanged (a database restored from before it, a test).
      -- mediaType in one spelling per channel, as seed 000 lists them (shared/activities/media-types.ts
      -- holds the list since; this is its state when the rows were rewritten). The rows get a new
      -- change_xid from their trigger, and the revenue rows showing them are exported again too.
      WITH rewritten AS (
        UPDATE contact_activities a SET media_type = spelling.canonical
          FROM (VALUES ('sms', 'SMS'), ('email', 'Email'), ('webpush', 'Web Push'), ('viber', 'Viber'), ('mobilepush', 'Mobile Push'),
                       ('appinbox', 'AppInbox'), ('widget', 'Widget'), ('inapp', 'In-App'), ('telegram', 'Telegram')) AS spelling(folded, canonical)
         WHERE regexp_replace(lower(a.media_type), '[^a-z0-9]', '', 'g') = spelling.folded AND a.media_type <> spelling.canonical
        RETURNING a.id
      )
      UPDATE revenue_attributions SET change_xid = change_xid WHERE activity_id IN (SELECT id FROM rewritten);

      -- messages.translations lists every language version: a version added, changed or removed
      -- changes its message.
      CREATE OR REPLACE FUNCTION export_message_translation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE messages SET change_xid = pg_current_xact_id()
         WHERE id IN (CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.message_id END,
                      CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.message_id END)
           AND change_xid <> pg_current_xact_id();
        RETURN NULL;
      END $$;
      DROP TRIGGER IF EXISTS message_translations_export_change ON message_translations;
      CREATE TRIGGER message_translations_export_change AFTER INSERT OR UPDATE OR DELETE ON message_translations
        FOR EACH ROW EXECUTE FUNCTION export_message_translation_changed();

      -- contacts.emailStatus follows the latest delivery outcome of the contact's email: a contact
      -- with a new one is exported again. DELIVERED is left out here only because recording it
      -- updates the contact's statistics in the same transaction anyway. Once per statement.
      CREATE OR REPLACE FUNCTION export_email_outcome_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE contacts c SET change_xid = pg_current_xact_id()
          FROM (SELECT DISTINCT contact_id FROM recorded
                 WHERE media_type = 'Email' AND activity_status IN ('UNDELIVERED', 'SPAM', 'UNSUBSCRIBED')) r
         WHERE c.id = r.contact_id AND c.change_xid <> pg_current_xact_id();
        RETURN NULL;
      END $$;
      DROP TRIGGER IF EXISTS contact_activities_export_email_outcome ON contact_activities;
      CREATE TRIGGER contact_activities_export_email_outcome AFTER INSERT ON contact_activities
        REFERENCING NEW TABLE AS recorded FOR EACH STATEMENT EXECUTE FUNCTION export_email_outcome_recorded();
      UPDATE contacts SET change_xid = change_xid
       WHERE id IN (SELECT contact_id FROM contact_activities
                     WHERE media_type = 'Email' AND activity_status IN ('DELIVERED', 'UNDELIVERED', 'SPAM', 'UNSUBSCRIBED'));

      -- An item removed from its order stays, marked, so the removal reaches the destinations
      -- (satelliteDeletedAt) as a contact's deletion does; sent again, it lives again.
      ALTER TABLE order_items ADD COLUMN IF NOT EXISTS deleted_at timestamptz;

      -- Destinations gained messages.satelliteDeletedAt and the full translations: messages
      -- deleted or with language versions before are exported again once.
      UPDATE messages SET change_xid = change_xid
       WHERE deleted_at IS NOT NULL OR id IN (SELECT message_id FROM message_translations);
    `,
  },
  {
    version: 608,
    name: 'devices follow mobile push registrations',
    sql: `
      -- The API records a mobile push registration as a contact's mobilepush channel (its token);
      -- no call registers a device with more. Each such token is a row of devices, so the
      -- devices dataset carries what the platform knows: the token, its contact. The device id
      -- is the token itself when it fits the seed's varchar(250), else 'sha256:' and its digest.
      -- A token removed from its contact is marked deleted (satelliteDeletedAt downstream).
      ALTER TABLE devices ADD COLUMN IF NOT EXISTS deleted_at timestamptz;

      CREATE OR REPLACE FUNCTION push_registration_device_id(token text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN length(token) <= 250 THEN token ELSE 'sha256:' || encode(sha256(convert_to(token, 'UTF8')), 'hex') END
      $$;

      CREATE OR REPLACE FUNCTION devices_follow_push_channel() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'INSERT' AND OLD.type = 'mobilepush' THEN
          UPDATE devices SET deleted_at = now(), updated_at = now()
           WHERE account_id = OLD.account_id AND device_id = push_registration_device_id(OLD.value)
             AND (contact_id = OLD.contact_id OR contact_id IS NULL) AND deleted_at IS NULL;
        END IF;
        -- After the removal: a token moved from one slot to another in one change lives on.
        IF TG_OP <> 'DELETE' AND NEW.type = 'mobilepush' THEN
          INSERT INTO devices (account_id, contact_id, device_id, push_token)
          VALUES (NEW.account_id, NEW.contact_id, push_registration_device_id(NEW.value), NEW.value)
          ON CONFLICT (account_id, device_id) DO UPDATE
            SET contact_id = EXCLUDED.contact_id, push_token = EXCLUDED.push_token, deleted_at = NULL, updated_at = now()
          WHERE devices.contact_id IS DISTINCT FROM EXCLUDED.contact_id OR devices.push_token IS DISTINCT FROM EXCLUDED.push_token
             OR devices.deleted_at IS NOT NULL;
        END IF;
        RETURN NULL;
      END $$;
      DROP TRIGGER IF EXISTS contact_channels_push_device_insert ON contact_channels;
      CREATE TRIGGER contact_channels_push_device_insert AFTER INSERT ON contact_channels
        FOR EACH ROW WHEN (NEW.type = 'mobilepush') EXECUTE FUNCTION devices_follow_push_channel();
      DROP TRIGGER IF EXISTS contact_channels_push_device_change ON contact_channels;
      CREATE TRIGGER contact_channels_push_device_change AFTER UPDATE ON contact_channels
        FOR EACH ROW WHEN (OLD.type = 'mobilepush' OR NEW.type = 'mobilepush') EXECUTE FUNCTION devices_follow_push_channel();
      DROP TRIGGER IF EXISTS contact_channels_push_device_delete ON contact_channels;
      CREATE TRIGGER contact_channels_push_device_delete AFTER DELETE ON contact_channels
        FOR EACH ROW WHEN (OLD.type = 'mobilepush') EXECUTE FUNCTION devices_follow_push_channel();

      -- The registrations made before.
      INSERT INTO devices (account_id, contact_id, device_id, push_token)
      SELECT DISTINCT ON (account_id, push_registration_device_id(value)) account_id, contact_id, push_registration_device_id(value), value
        FROM contact_channels WHERE type = 'mobilepush'
       ORDER BY account_id, push_registration_device_id(value), created_at DESC, id DESC
      ON CONFLICT (account_id, device_id) DO NOTHING;
    `,
  },
];
