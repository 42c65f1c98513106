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
  {
    version: 609,
    name: 'save_contact: fewer statements per call; a contact update marks itself for exports',
    sql: `
      -- Issue 27 (CPU per add/update call). save_contact as in contacts' 309, with the same
      -- outcomes; numbered here because it sets change_xid, which this block adds (600):
      -- * a new contact and its channels are inserted by one statement;
      -- * the groups' de-duplication (contact_groups_union) runs only when groups are given
      --   (subscribe), the fields' merge only when fields are given;
      -- * one channel to match by (the usual case) is looked up without unnesting the lists;
      -- * an update giving the one channel the contact already has reads it instead of running
      --   a DELETE and an INSERT that find nothing to do;
      -- * the update sets change_xid itself, so the row trigger below (a PL/pgSQL call per
      --   updated row) runs only for writers that do not.
      -- A contact's groups with more added, each once. A function of its own so that a
      -- statement naming it plans no aggregate: only calls that give groups (subscribe) run it.
      CREATE FUNCTION contact_groups_union(current_groups text[], added text[]) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT ARRAY(SELECT DISTINCT g FROM unnest(current_groups || added) g) $$;

      DROP TRIGGER contacts_export_change ON contacts;
      CREATE TRIGGER contacts_export_change BEFORE UPDATE ON contacts
        FOR EACH ROW WHEN (NEW.change_xid IS DISTINCT FROM pg_current_xact_id())
        EXECUTE FUNCTION export_mark_changed();

      CREATE OR REPLACE FUNCTION save_contact(
        p_account_id bigint,
        p_external_id text,
        p_first_name text,
        p_last_name text,
        p_language_code text,
        p_time_zone text,
        p_address jsonb,
        -- {"<fieldId>": value}; a null value removes the field
        p_fields jsonb,
        p_groups text[],
        p_source text,
        p_confirmed boolean,
        -- the channels that identify an existing contact, with the trust rank of each (0 first)
        p_match_types text[],
        p_match_values text[],
        p_match_ranks int[],
        -- the channels to store: for each type given, they replace the contact's
        p_channel_types text[],
        p_channel_values text[],
        p_channel_normalized text[],
        p_channel_positions smallint[],
        OUT saved_id bigint,
        OUT inserted boolean
      ) LANGUAGE plpgsql
        -- Left to choose, PostgreSQL planned most of these statements on every call (their
        -- generic plans looked dearer), which cost more than running them. Each is written so
        -- that a plan made on near-empty tables still reaches every row by key.
        SET plan_cache_mode = force_generic_plan
      AS $$
      DECLARE
        found_id bigint;
        found_external_id text;
        found_by text;
        channels_locked boolean := false;
      BEGIN
        FOR attempt IN 1..3 LOOP
          found_id := NULL;
          IF p_external_id IS NOT NULL THEN
            SELECT c.id INTO found_id FROM contacts c
             WHERE c.account_id = p_account_id AND c.external_customer_id = p_external_id
             FOR NO KEY UPDATE;
          END IF;
          -- A live contact holding one of the channels. Each pair is
          -- looked up by index whatever the plan cached for this connection assumed of the
          -- tables' sizes: OFFSET 0 keeps the lookups from being turned into joins, and the
          -- contact is reached by primary key alone (with its account beside the key, a plan
          -- made on near-empty tables went through the change-tracking index and read the
          -- account's whole range).
          IF found_id IS NULL AND cardinality(p_match_types) > 0 THEN
            -- No constraint settles two saves that would create (or claim) a contact by the
            -- same channel, with or without an external ID: they take turns on every channel
            -- they may match by, taken in one order so that no two wait for each other.
            IF NOT channels_locked AND cardinality(p_match_types) = 1 THEN
              PERFORM pg_advisory_xact_lock(hashtextextended(format('contact:%s:%s:%s', p_account_id, p_match_types[1], p_match_values[1]), 0));
            ELSIF NOT channels_locked THEN
              PERFORM pg_advisory_xact_lock(hashtextextended(format('contact:%s:%s:%s', p_account_id, m.type, m.normalized), 0))
                FROM (SELECT DISTINCT type, normalized FROM unnest(p_match_types, p_match_values) AS given(type, normalized) ORDER BY 1, 2) m;
            END IF;
            channels_locked := true;
            IF cardinality(p_match_types) = 1 THEN
              -- The usual case (an email alone): the same lookup without unnesting the lists.
              SELECT c.id INTO found_id
                FROM (
                  SELECT ch.contact_id FROM contact_channels ch
                   WHERE ch.account_id = p_account_id AND ch.type = p_match_types[1] AND ch.normalized = p_match_values[1]
                  OFFSET 0
                ) ch
                CROSS JOIN LATERAL (
                  SELECT c.id, c.account_id, c.external_customer_id FROM contacts c
                   WHERE c.id = ch.contact_id AND c.deleted_at IS NULL
                  OFFSET 0
                ) c
               WHERE c.account_id = p_account_id
               ORDER BY c.external_customer_id IS NOT NULL, c.id
               LIMIT 1;
            ELSE
            SELECT c.id INTO found_id
              FROM unnest(p_match_types, p_match_values, p_match_ranks) AS m(type, normalized, rank)
              CROSS JOIN LATERAL (
                SELECT ch.contact_id FROM contact_channels ch
                 WHERE ch.account_id = p_account_id AND ch.type = m.type AND ch.normalized = m.normalized
                OFFSET 0
              ) ch
              CROSS JOIN LATERAL (
                SELECT c.id, c.account_id, c.external_customer_id FROM contacts c
                 WHERE c.id = ch.contact_id AND c.deleted_at IS NULL
                OFFSET 0
              ) c
             WHERE c.account_id = p_account_id
             -- Seed 002's order (email, then phone): the first channel that finds a contact
             -- decides; among contacts it finds, one without an external ID first.
             ORDER BY m.rank, c.external_customer_id IS NOT NULL, c.id
             LIMIT 1;
            END IF;
            IF found_id IS NOT NULL THEN
              -- Locked, then checked again by statements of their own: one that started before
              -- the lock was granted would see the contact's channels as they were before the
              -- holder changed them. (Every writer of channels holds its contact's row lock.)
              SELECT c.id, c.external_customer_id INTO found_id, found_external_id FROM contacts c
               WHERE c.id = found_id AND c.deleted_at IS NULL
               FOR NO KEY UPDATE;
              IF found_id IS NULL THEN CONTINUE; END IF;
              SELECT m.type INTO found_by FROM contact_channels ch JOIN unnest(p_match_types, p_match_values, p_match_ranks) AS m(type, normalized, rank)
                  ON ch.type = m.type AND ch.normalized = m.normalized
               WHERE ch.contact_id = found_id
               ORDER BY m.rank LIMIT 1;
              IF NOT FOUND THEN CONTINUE; END IF;
              -- Found by a channel but known by another external ID: neither taken over (its
              -- ID would change under the caller's system) nor duplicated (a second contact
              -- with the same email). Nothing is written; the caller decides.
              IF p_external_id IS NOT NULL AND found_external_id IS NOT NULL AND found_external_id <> p_external_id THEN
                RAISE EXCEPTION 'contact % found by % has another external ID', found_id, found_by
                  USING ERRCODE = 'SX409', DETAIL = found_id::text, HINT = found_by;
              END IF;
            END IF;
          END IF;

          IF found_id IS NULL THEN
            -- The contact and its channels in one statement (one executor start, one set of
            -- locks). The contact's row comes out of its CTE, its RETURNING marking it, before
            -- the channels' rows are made from it; their key to it is checked at the
            -- statement's end, when the row is there.
            WITH saved AS (
              INSERT INTO contacts AS c (account_id, external_customer_id, first_name, last_name, language_code, time_zone, address, fields, groups, source, confirmed)
              VALUES (p_account_id, p_external_id, p_first_name, p_last_name, p_language_code, p_time_zone, p_address,
                      jsonb_strip_nulls(p_fields),
                      -- Only subscribe gives groups: the others skip the sort that removes repeats.
                      CASE WHEN cardinality(p_groups) = 0 THEN '{}' ELSE contact_groups_union('{}', p_groups) END,
                      p_source, p_confirmed)
              ON CONFLICT (account_id, external_customer_id) WHERE external_customer_id IS NOT NULL DO NOTHING
              -- Marked in the same statement: its channels, inserted next, then need not touch it for exports.
              RETURNING c.id, set_config('satellite.inserted_contact', c.id::text, true) AS marked
            ),
            channels AS (
              INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
              SELECT p_account_id, saved.id, given.*
                FROM saved, unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position)
               WHERE saved.marked IS NOT NULL
            )
            SELECT saved.id INTO saved_id FROM saved;
            -- Another call created this external ID meanwhile (and has committed): find it.
            IF saved_id IS NULL THEN CONTINUE; END IF;
            inserted := true;
            RETURN;
          END IF;

          -- Written only when the call changes something: a contact sent again as it is gets no
          -- new version, no updated_at, nothing for exports to pick up again. A deleted contact
          -- found by its external ID is restored.
          UPDATE contacts c SET
              external_customer_id = coalesce(p_external_id, c.external_customer_id),
              first_name = coalesce(p_first_name, c.first_name),
              last_name = coalesce(p_last_name, c.last_name),
              language_code = coalesce(p_language_code, c.language_code),
              time_zone = coalesce(p_time_zone, c.time_zone),
              address = coalesce(p_address, c.address),
              fields = CASE WHEN p_fields = '{}' THEN c.fields ELSE jsonb_strip_nulls(c.fields || p_fields) END,
              groups = CASE WHEN cardinality(p_groups) = 0 THEN c.groups ELSE contact_groups_union(c.groups, p_groups) END,
              deleted_at = NULL,
              updated_at = now(),
              change_xid = pg_current_xact_id()
           WHERE c.id = found_id
             AND (c.deleted_at IS NOT NULL
                  OR NOT (p_groups <@ c.groups)
                  OR (p_fields <> '{}' AND jsonb_strip_nulls(c.fields || p_fields) IS DISTINCT FROM c.fields)
                  OR c.external_customer_id IS DISTINCT FROM coalesce(p_external_id, c.external_customer_id)
                  OR c.first_name IS DISTINCT FROM coalesce(p_first_name, c.first_name)
                  OR c.last_name IS DISTINCT FROM coalesce(p_last_name, c.last_name)
                  OR c.language_code IS DISTINCT FROM coalesce(p_language_code, c.language_code)
                  OR c.time_zone IS DISTINCT FROM coalesce(p_time_zone, c.time_zone)
                  OR c.address IS DISTINCT FROM coalesce(p_address, c.address));

          -- For each type given, the contact's channels become the given ones; a channel given
          -- again in the same slot is kept as it is (no row churn, no export touch).
          -- Most saves give the one channel the contact already has: two indexed reads of it
          -- instead of a DELETE and an INSERT that would both find nothing to do. Several
          -- channels take the statements below whatever they are.
          IF cardinality(p_channel_types) > 0 AND NOT (
               cardinality(p_channel_types) = 1
               AND EXISTS (
                 SELECT FROM contact_channels ch
                  WHERE ch.contact_id = found_id AND ch.type = p_channel_types[1] AND ch.position = p_channel_positions[1]
                    AND ch.value = p_channel_values[1] AND ch.normalized = p_channel_normalized[1])
               AND NOT EXISTS (
                 SELECT FROM contact_channels ch
                  WHERE ch.contact_id = found_id AND ch.type = p_channel_types[1]
                    AND (ch.position, ch.value, ch.normalized) IS DISTINCT FROM (p_channel_positions[1], p_channel_values[1], p_channel_normalized[1]))
             ) THEN
            DELETE FROM contact_channels ch
             WHERE ch.contact_id = found_id AND ch.type = ANY (p_channel_types)
               AND NOT EXISTS (
                 SELECT FROM unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position)
                  WHERE given.type = ch.type AND given.position = ch.position AND given.value = ch.value AND given.normalized = ch.normalized);
            INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
            SELECT p_account_id, found_id, given.*
              FROM unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position)
             WHERE NOT EXISTS (
               SELECT FROM contact_channels ch
                WHERE ch.contact_id = found_id AND ch.type = given.type AND ch.position = given.position
                  AND ch.value = given.value AND ch.normalized = given.normalized);
          END IF;
          saved_id := found_id;
          inserted := false;
          RETURN;
        END LOOP;
        -- Three rounds lost to other writers: the caller answers that the contact is busy.
      END $$;
    `,
  },
  {
    version: 610,
    name: 'save_contact: a create with one channel starts fewer executor nodes',
    sql: `
      -- Issue 27, creates (CPU per call). save_contact as in 609, with the same outcomes:
      -- * the advisory lock on the one channel to match by is taken by an assignment, which
      --   PL/pgSQL evaluates as a simple expression, instead of a PERFORM (a query of its own);
      -- * a new contact with one channel (the usual create) inserts it from the lists' first
      --   elements, without a function scan unnesting them; other counts keep 609's statement.
      CREATE OR REPLACE FUNCTION save_contact(
        p_account_id bigint,
        p_external_id text,
        p_first_name text,
        p_last_name text,
        p_language_code text,
        p_time_zone text,
        p_address jsonb,
        -- {"<fieldId>": value}; a null value removes the field
        p_fields jsonb,
        p_groups text[],
        p_source text,
        p_confirmed boolean,
        -- the channels that identify an existing contact, with the trust rank of each (0 first)
        p_match_types text[],
        p_match_values text[],
        p_match_ranks int[],
        -- the channels to store: for each type given, they replace the contact's
        p_channel_types text[],
        p_channel_values text[],
        p_channel_normalized text[],
        p_channel_positions smallint[],
        OUT saved_id bigint,
        OUT inserted boolean
      ) LANGUAGE plpgsql
        -- Left to choose, PostgreSQL planned most of these statements on every call (their
        -- generic plans looked dearer), which cost more than running them. Each is written so
        -- that a plan made on near-empty tables still reaches every row by key.
        SET plan_cache_mode = force_generic_plan
      AS $$
      DECLARE
        found_id bigint;
        found_external_id text;
        found_by text;
        channels_locked boolean := false;
        lock_taken text;
      BEGIN
        FOR attempt IN 1..3 LOOP
          found_id := NULL;
          IF p_external_id IS NOT NULL THEN
            SELECT c.id INTO found_id FROM contacts c
             WHERE c.account_id = p_account_id AND c.external_customer_id = p_external_id
             FOR NO KEY UPDATE;
          END IF;
          -- A live contact holding one of the channels. Each pair is
          -- looked up by index whatever the plan cached for this connection assumed of the
          -- tables' sizes: OFFSET 0 keeps the lookups from being turned into joins, and the
          -- contact is reached by primary key alone (with its account beside the key, a plan
          -- made on near-empty tables went through the change-tracking index and read the
          -- account's whole range).
          IF found_id IS NULL AND cardinality(p_match_types) > 0 THEN
            -- No constraint settles two saves that would create (or claim) a contact by the
            -- same channel, with or without an external ID: they take turns on every channel
            -- they may match by, taken in one order so that no two wait for each other.
            IF NOT channels_locked AND cardinality(p_match_types) = 1 THEN
              -- An assignment, not PERFORM: PL/pgSQL evaluates a simple expression without
              -- starting an executor for it (PERFORM runs a whole query).
              lock_taken := pg_advisory_xact_lock(hashtextextended(format('contact:%s:%s:%s', p_account_id, p_match_types[1], p_match_values[1]), 0))::text;
            ELSIF NOT channels_locked THEN
              PERFORM pg_advisory_xact_lock(hashtextextended(format('contact:%s:%s:%s', p_account_id, m.type, m.normalized), 0))
                FROM (SELECT DISTINCT type, normalized FROM unnest(p_match_types, p_match_values) AS given(type, normalized) ORDER BY 1, 2) m;
            END IF;
            channels_locked := true;
            IF cardinality(p_match_types) = 1 THEN
              -- The usual case (an email alone): the same lookup without unnesting the lists.
              SELECT c.id INTO found_id
                FROM (
                  SELECT ch.contact_id FROM contact_channels ch
                   WHERE ch.account_id = p_account_id AND ch.type = p_match_types[1] AND ch.normalized = p_match_values[1]
                  OFFSET 0
                ) ch
                CROSS JOIN LATERAL (
                  SELECT c.id, c.account_id, c.external_customer_id FROM contacts c
                   WHERE c.id = ch.contact_id AND c.deleted_at IS NULL
                  OFFSET 0
                ) c
               WHERE c.account_id = p_account_id
               ORDER BY c.external_customer_id IS NOT NULL, c.id
               LIMIT 1;
            ELSE
            SELECT c.id INTO found_id
              FROM unnest(p_match_types, p_match_values, p_match_ranks) AS m(type, normalized, rank)
              CROSS JOIN LATERAL (
                SELECT ch.contact_id FROM contact_channels ch
                 WHERE ch.account_id = p_account_id AND ch.type = m.type AND ch.normalized = m.normalized
                OFFSET 0
              ) ch
              CROSS JOIN LATERAL (
                SELECT c.id, c.account_id, c.external_customer_id FROM contacts c
                 WHERE c.id = ch.contact_id AND c.deleted_at IS NULL
                OFFSET 0
              ) c
             WHERE c.account_id = p_account_id
             -- Seed 002's order (email, then phone): the first channel that finds a contact
             -- decides; among contacts it finds, one without an external ID first.
             ORDER BY m.rank, c.external_customer_id IS NOT NULL, c.id
             LIMIT 1;
            END IF;
            IF found_id IS NOT NULL THEN
              -- Locked, then checked again by statements of their own: one that started before
              -- the lock was granted would see the contact's channels as they were before the
              -- holder changed them. (Every writer of channels holds its contact's row lock.)
              SELECT c.id, c.external_customer_id INTO found_id, found_external_id FROM contacts c
               WHERE c.id = found_id AND c.deleted_at IS NULL
               FOR NO KEY UPDATE;
              IF found_id IS NULL THEN CONTINUE; END IF;
              SELECT m.type INTO found_by FROM contact_channels ch JOIN unnest(p_match_types, p_match_values, p_match_ranks) AS m(type, normalized, rank)
                  ON ch.type = m.type AND ch.normalized = m.normalized
               WHERE ch.contact_id = found_id
               ORDER BY m.rank LIMIT 1;
              IF NOT FOUND THEN CONTINUE; END IF;
              -- Found by a channel but known by another external ID: neither taken over (its
              -- ID would change under the caller's system) nor duplicated (a second contact
              -- with the same email). Nothing is written; the caller decides.
              IF p_external_id IS NOT NULL AND found_external_id IS NOT NULL AND found_external_id <> p_external_id THEN
                RAISE EXCEPTION 'contact % found by % has another external ID', found_id, found_by
                  USING ERRCODE = 'SX409', DETAIL = found_id::text, HINT = found_by;
              END IF;
            END IF;
          END IF;

          IF found_id IS NULL AND cardinality(p_channel_types) = 1 THEN
            -- The usual create (one channel): as below, its channel made from the lists' first
            -- elements rather than by unnesting them (a function scan's set-up per call).
            WITH saved AS (
              INSERT INTO contacts AS c (account_id, external_customer_id, first_name, last_name, language_code, time_zone, address, fields, groups, source, confirmed)
              VALUES (p_account_id, p_external_id, p_first_name, p_last_name, p_language_code, p_time_zone, p_address,
                      jsonb_strip_nulls(p_fields),
                      CASE WHEN cardinality(p_groups) = 0 THEN '{}' ELSE contact_groups_union('{}', p_groups) END,
                      p_source, p_confirmed)
              ON CONFLICT (account_id, external_customer_id) WHERE external_customer_id IS NOT NULL DO NOTHING
              RETURNING c.id, set_config('satellite.inserted_contact', c.id::text, true) AS marked
            ),
            channels AS (
              INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
              SELECT p_account_id, saved.id, p_channel_types[1], p_channel_values[1], p_channel_normalized[1], p_channel_positions[1]
                FROM saved
               WHERE saved.marked IS NOT NULL
            )
            SELECT saved.id INTO saved_id FROM saved;
            IF saved_id IS NULL THEN CONTINUE; END IF;
            inserted := true;
            RETURN;
          ELSIF found_id IS NULL THEN
            -- The contact and its channels in one statement (one executor start, one set of
            -- locks). The contact's row comes out of its CTE, its RETURNING marking it, before
            -- the channels' rows are made from it; their key to it is checked at the
            -- statement's end, when the row is there.
            WITH saved AS (
              INSERT INTO contacts AS c (account_id, external_customer_id, first_name, last_name, language_code, time_zone, address, fields, groups, source, confirmed)
              VALUES (p_account_id, p_external_id, p_first_name, p_last_name, p_language_code, p_time_zone, p_address,
                      jsonb_strip_nulls(p_fields),
                      -- Only subscribe gives groups: the others skip the sort that removes repeats.
                      CASE WHEN cardinality(p_groups) = 0 THEN '{}' ELSE contact_groups_union('{}', p_groups) END,
                      p_source, p_confirmed)
              ON CONFLICT (account_id, external_customer_id) WHERE external_customer_id IS NOT NULL DO NOTHING
              -- Marked in the same statement: its channels, inserted next, then need not touch it for exports.
              RETURNING c.id, set_config('satellite.inserted_contact', c.id::text, true) AS marked
            ),
            channels AS (
              INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
              SELECT p_account_id, saved.id, given.*
                FROM saved, unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position)
               WHERE saved.marked IS NOT NULL
            )
            SELECT saved.id INTO saved_id FROM saved;
            -- Another call created this external ID meanwhile (and has committed): find it.
            IF saved_id IS NULL THEN CONTINUE; END IF;
            inserted := true;
            RETURN;
          END IF;

          -- Written only when the call changes something: a contact sent again as it is gets no
          -- new version, no updated_at, nothing for exports to pick up again. A deleted contact
          -- found by its external ID is restored.
          UPDATE contacts c SET
              external_customer_id = coalesce(p_external_id, c.external_customer_id),
              first_name = coalesce(p_first_name, c.first_name),
              last_name = coalesce(p_last_name, c.last_name),
              language_code = coalesce(p_language_code, c.language_code),
              time_zone = coalesce(p_time_zone, c.time_zone),
              address = coalesce(p_address, c.address),
              fields = CASE WHEN p_fields = '{}' THEN c.fields ELSE jsonb_strip_nulls(c.fields || p_fields) END,
              groups = CASE WHEN cardinality(p_groups) = 0 THEN c.groups ELSE contact_groups_union(c.groups, p_groups) END,
              deleted_at = NULL,
              updated_at = now(),
              change_xid = pg_current_xact_id()
           WHERE c.id = found_id
             AND (c.deleted_at IS NOT NULL
                  OR NOT (p_groups <@ c.groups)
                  OR (p_fields <> '{}' AND jsonb_strip_nulls(c.fields || p_fields) IS DISTINCT FROM c.fields)
                  OR c.external_customer_id IS DISTINCT FROM coalesce(p_external_id, c.external_customer_id)
                  OR c.first_name IS DISTINCT FROM coalesce(p_first_name, c.first_name)
                  OR c.last_name IS DISTINCT FROM coalesce(p_last_name, c.last_name)
                  OR c.language_code IS DISTINCT FROM coalesce(p_language_code, c.language_code)
                  OR c.time_zone IS DISTINCT FROM coalesce(p_time_zone, c.time_zone)
                  OR c.address IS DISTINCT FROM coalesce(p_address, c.address));

          -- For each type given, the contact's channels become the given ones; a channel given
          -- again in the same slot is kept as it is (no row churn, no export touch).
          -- Most saves give the one channel the contact already has: two indexed reads of it
          -- instead of a DELETE and an INSERT that would both find nothing to do. Several
          -- channels take the statements below whatever they are.
          IF cardinality(p_channel_types) > 0 AND NOT (
               cardinality(p_channel_types) = 1
               AND EXISTS (
                 SELECT FROM contact_channels ch
                  WHERE ch.contact_id = found_id AND ch.type = p_channel_types[1] AND ch.position = p_channel_positions[1]
                    AND ch.value = p_channel_values[1] AND ch.normalized = p_channel_normalized[1])
               AND NOT EXISTS (
                 SELECT FROM contact_channels ch
                  WHERE ch.contact_id = found_id AND ch.type = p_channel_types[1]
                    AND (ch.position, ch.value, ch.normalized) IS DISTINCT FROM (p_channel_positions[1], p_channel_values[1], p_channel_normalized[1]))
             ) THEN
            DELETE FROM contact_channels ch
             WHERE ch.contact_id = found_id AND ch.type = ANY (p_channel_types)
               AND NOT EXISTS (
                 SELECT FROM unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position)
                  WHERE given.type = ch.type AND given.position = ch.position AND given.value = ch.value AND given.normalized = ch.normalized);
            INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
            SELECT p_account_id, found_id, given.*
              FROM unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position)
             WHERE NOT EXISTS (
               SELECT FROM contact_channels ch
                WHERE ch.contact_id = found_id AND ch.type = given.type AND ch.position = given.position
                  AND ch.value = given.value AND ch.normalized = given.normalized);
          END IF;
          saved_id := found_id;
          inserted := false;
          RETURN;
        END LOOP;
        -- Three rounds lost to other writers: the caller answers that the contact is busy.
      END $$;
    `,
  },
  {
    version: 611,
    name: 'save_contact_id: save_contact answering one value, and a create not setting up the channel lookup',
    sql: `
      -- Issue 27, creates (CPU per call). save_contact as in 610, with the same outcomes, under
      -- a new name because its answer changes shape: one bigint instead of two OUT columns. A
      -- function with OUT columns is called as a function scan: per call, its result type was
      -- built again from the catalog (decompressing the argument names) and its row went
      -- through a tuple store; a scalar is one expression of a one-row plan. A one-channel
      -- save whose channel nobody holds (every create) now stops at one index probe. The old
      -- function stays for code deployed before this migration, which still calls it.
      CREATE FUNCTION save_contact_id(
        p_account_id bigint,
        p_external_id text,
        p_first_name text,
        p_last_name text,
        p_language_code text,
        p_time_zone text,
        p_address jsonb,
        -- {"<fieldId>": value}; a null value removes the field
        p_fields jsonb,
        p_groups text[],
        p_source text,
        p_confirmed boolean,
        -- the channels that identify an existing contact, with the trust rank of each (0 first)
        p_match_types text[],
        p_match_values text[],
        p_match_ranks int[],
        -- the channels to store: for each type given, they replace the contact's
        p_channel_types text[],
        p_channel_values text[],
        p_channel_normalized text[],
        p_channel_positions smallint[]
      -- The saved contact's id; NULL when other writers won three rounds in a row (the caller
      -- answers that the contact is busy). Whether the call created the contact is no longer
      -- answered: no caller read it.
      ) RETURNS bigint LANGUAGE plpgsql
        -- Left to choose, PostgreSQL planned most of these statements on every call (their
        -- generic plans looked dearer), which cost more than running them. Each is written so
        -- that a plan made on near-empty tables still reaches every row by key.
        SET plan_cache_mode = force_generic_plan
      AS $$
      DECLARE
        saved_id bigint;
        found_id bigint;
        found_external_id text;
        found_by text;
        channels_locked boolean := false;
        lock_taken text;
      BEGIN
        FOR attempt IN 1..3 LOOP
          found_id := NULL;
          IF p_external_id IS NOT NULL THEN
            SELECT c.id INTO found_id FROM contacts c
             WHERE c.account_id = p_account_id AND c.external_customer_id = p_external_id
             FOR NO KEY UPDATE;
          END IF;
          -- A live contact holding one of the channels. Each pair is
          -- looked up by index whatever the plan cached for this connection assumed of the
          -- tables' sizes: OFFSET 0 keeps the lookups from being turned into joins, and the
          -- contact is reached by primary key alone (with its account beside the key, a plan
          -- made on near-empty tables went through the change-tracking index and read the
          -- account's whole range).
          IF found_id IS NULL AND cardinality(p_match_types) > 0 THEN
            -- No constraint settles two saves that would create (or claim) a contact by the
            -- same channel, with or without an external ID: they take turns on every channel
            -- they may match by, taken in one order so that no two wait for each other.
            IF NOT channels_locked AND cardinality(p_match_types) = 1 THEN
              -- An assignment, not PERFORM: PL/pgSQL evaluates a simple expression without
              -- starting an executor for it (PERFORM runs a whole query).
              lock_taken := pg_advisory_xact_lock(hashtextextended(format('contact:%s:%s:%s', p_account_id, p_match_types[1], p_match_values[1]), 0))::text;
            ELSIF NOT channels_locked THEN
              PERFORM pg_advisory_xact_lock(hashtextextended(format('contact:%s:%s:%s', p_account_id, m.type, m.normalized), 0))
                FROM (SELECT DISTINCT type, normalized FROM unnest(p_match_types, p_match_values) AS given(type, normalized) ORDER BY 1, 2) m;
            END IF;
            channels_locked := true;
            IF cardinality(p_match_types) = 1 THEN
              -- The usual case (an email alone): the same lookup without unnesting the lists.
              -- A channel nobody holds (every create) is settled by one index probe, without
              -- setting up the join and the sort (whose set-up alone costs more than the probe).
              IF EXISTS (
                   SELECT FROM contact_channels ch
                    WHERE ch.account_id = p_account_id AND ch.type = p_match_types[1] AND ch.normalized = p_match_values[1]) THEN
                SELECT c.id INTO found_id
                  FROM (
                    SELECT ch.contact_id FROM contact_channels ch
                     WHERE ch.account_id = p_account_id AND ch.type = p_match_types[1] AND ch.normalized = p_match_values[1]
                    OFFSET 0
                  ) ch
                  CROSS JOIN LATERAL (
                    SELECT c.id, c.account_id, c.external_customer_id FROM contacts c
                     WHERE c.id = ch.contact_id AND c.deleted_at IS NULL
                    OFFSET 0
                  ) c
                 WHERE c.account_id = p_account_id
                 ORDER BY c.external_customer_id IS NOT NULL, c.id
                 LIMIT 1;
              END IF;
            ELSE
            SELECT c.id INTO found_id
              FROM unnest(p_match_types, p_match_values, p_match_ranks) AS m(type, normalized, rank)
              CROSS JOIN LATERAL (
                SELECT ch.contact_id FROM contact_channels ch
                 WHERE ch.account_id = p_account_id AND ch.type = m.type AND ch.normalized = m.normalized
                OFFSET 0
              ) ch
              CROSS JOIN LATERAL (
                SELECT c.id, c.account_id, c.external_customer_id FROM contacts c
                 WHERE c.id = ch.contact_id AND c.deleted_at IS NULL
                OFFSET 0
              ) c
             WHERE c.account_id = p_account_id
             -- Seed 002's order (email, then phone): the first channel that finds a contact
             -- decides; among contacts it finds, one without an external ID first.
             ORDER BY m.rank, c.external_customer_id IS NOT NULL, c.id
             LIMIT 1;
            END IF;
            IF found_id IS NOT NULL THEN
              -- Locked, then checked again by statements of their own: one that started before
              -- the lock was granted would see the contact's channels as they were before the
              -- holder changed them. (Every writer of channels holds its contact's row lock.)
              SELECT c.id, c.external_customer_id INTO found_id, found_external_id FROM contacts c
               WHERE c.id = found_id AND c.deleted_at IS NULL
               FOR NO KEY UPDATE;
              IF found_id IS NULL THEN CONTINUE; END IF;
              SELECT m.type INTO found_by FROM contact_channels ch JOIN unnest(p_match_types, p_match_values, p_match_ranks) AS m(type, normalized, rank)
                  ON ch.type = m.type AND ch.normalized = m.normalized
               WHERE ch.contact_id = found_id
               ORDER BY m.rank LIMIT 1;
              IF NOT FOUND THEN CONTINUE; END IF;
              -- Found by a channel but known by another external ID: neither taken over (its
              -- ID would change under the caller's system) nor duplicated (a second contact
              -- with the same email). Nothing is written; the caller decides.
              IF p_external_id IS NOT NULL AND found_external_id IS NOT NULL AND found_external_id <> p_external_id THEN
                RAISE EXCEPTION 'contact % found by % has another external ID', found_id, found_by
                  USING ERRCODE = 'SX409', DETAIL = found_id::text, HINT = found_by;
              END IF;
            END IF;
          END IF;

          IF found_id IS NULL AND cardinality(p_channel_types) = 1 THEN
            -- The usual create (one channel): as below, its channel made from the lists' first
            -- elements rather than by unnesting them (a function scan's set-up per call).
            WITH saved AS (
              INSERT INTO contacts AS c (account_id, external_customer_id, first_name, last_name, language_code, time_zone, address, fields, groups, source, confirmed)
              VALUES (p_account_id, p_external_id, p_first_name, p_last_name, p_language_code, p_time_zone, p_address,
                      jsonb_strip_nulls(p_fields),
                      CASE WHEN cardinality(p_groups) = 0 THEN '{}' ELSE contact_groups_union('{}', p_groups) END,
                      p_source, p_confirmed)
              ON CONFLICT (account_id, external_customer_id) WHERE external_customer_id IS NOT NULL DO NOTHING
              RETURNING c.id, set_config('satellite.inserted_contact', c.id::text, true) AS marked
            ),
            channels AS (
              INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
              SELECT p_account_id, saved.id, p_channel_types[1], p_channel_values[1], p_channel_normalized[1], p_channel_positions[1]
                FROM saved
               WHERE saved.marked IS NOT NULL
            )
            SELECT saved.id INTO saved_id FROM saved;
            IF saved_id IS NULL THEN CONTINUE; END IF;
            RETURN saved_id;
          ELSIF found_id IS NULL THEN
            -- The contact and its channels in one statement (one executor start, one set of
            -- locks). The contact's row comes out of its CTE, its RETURNING marking it, before
            -- the channels' rows are made from it; their key to it is checked at the
            -- statement's end, when the row is there.
            WITH saved AS (
              INSERT INTO contacts AS c (account_id, external_customer_id, first_name, last_name, language_code, time_zone, address, fields, groups, source, confirmed)
              VALUES (p_account_id, p_external_id, p_first_name, p_last_name, p_language_code, p_time_zone, p_address,
                      jsonb_strip_nulls(p_fields),
                      -- Only subscribe gives groups: the others skip the sort that removes repeats.
                      CASE WHEN cardinality(p_groups) = 0 THEN '{}' ELSE contact_groups_union('{}', p_groups) END,
                      p_source, p_confirmed)
              ON CONFLICT (account_id, external_customer_id) WHERE external_customer_id IS NOT NULL DO NOTHING
              -- Marked in the same statement: its channels, inserted next, then need not touch it for exports.
              RETURNING c.id, set_config('satellite.inserted_contact', c.id::text, true) AS marked
            ),
            channels AS (
              INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
              SELECT p_account_id, saved.id, given.*
                FROM saved, unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position)
               WHERE saved.marked IS NOT NULL
            )
            SELECT saved.id INTO saved_id FROM saved;
            -- Another call created this external ID meanwhile (and has committed): find it.
            IF saved_id IS NULL THEN CONTINUE; END IF;
            RETURN saved_id;
          END IF;

          -- Written only when the call changes something: a contact sent again as it is gets no
          -- new version, no updated_at, nothing for exports to pick up again. A deleted contact
          -- found by its external ID is restored.
          UPDATE contacts c SET
              external_customer_id = coalesce(p_external_id, c.external_customer_id),
              first_name = coalesce(p_first_name, c.first_name),
              last_name = coalesce(p_last_name, c.last_name),
              language_code = coalesce(p_language_code, c.language_code),
              time_zone = coalesce(p_time_zone, c.time_zone),
              address = coalesce(p_address, c.address),
              fields = CASE WHEN p_fields = '{}' THEN c.fields ELSE jsonb_strip_nulls(c.fields || p_fields) END,
              groups = CASE WHEN cardinality(p_groups) = 0 THEN c.groups ELSE contact_groups_union(c.groups, p_groups) END,
              deleted_at = NULL,
              updated_at = now(),
              change_xid = pg_current_xact_id()
           WHERE c.id = found_id
             AND (c.deleted_at IS NOT NULL
                  OR NOT (p_groups <@ c.groups)
                  OR (p_fields <> '{}' AND jsonb_strip_nulls(c.fields || p_fields) IS DISTINCT FROM c.fields)
                  OR c.external_customer_id IS DISTINCT FROM coalesce(p_external_id, c.external_customer_id)
                  OR c.first_name IS DISTINCT FROM coalesce(p_first_name, c.first_name)
                  OR c.last_name IS DISTINCT FROM coalesce(p_last_name, c.last_name)
                  OR c.language_code IS DISTINCT FROM coalesce(p_language_code, c.language_code)
                  OR c.time_zone IS DISTINCT FROM coalesce(p_time_zone, c.time_zone)
                  OR c.address IS DISTINCT FROM coalesce(p_address, c.address));

          -- For each type given, the contact's channels become the given ones; a channel given
          -- again in the same slot is kept as it is (no row churn, no export touch).
          -- Most saves give the one channel the contact already has: two indexed reads of it
          -- instead of a DELETE and an INSERT that would both find nothing to do. Several
          -- channels take the statements below whatever they are.
          IF cardinality(p_channel_types) > 0 AND NOT (
               cardinality(p_channel_types) = 1
               AND EXISTS (
                 SELECT FROM contact_channels ch
                  WHERE ch.contact_id = found_id AND ch.type = p_channel_types[1] AND ch.position = p_channel_positions[1]
                    AND ch.value = p_channel_values[1] AND ch.normalized = p_channel_normalized[1])
               AND NOT EXISTS (
                 SELECT FROM contact_channels ch
                  WHERE ch.contact_id = found_id AND ch.type = p_channel_types[1]
                    AND (ch.position, ch.value, ch.normalized) IS DISTINCT FROM (p_channel_positions[1], p_channel_values[1], p_channel_normalized[1]))
             ) THEN
            DELETE FROM contact_channels ch
             WHERE ch.contact_id = found_id AND ch.type = ANY (p_channel_types)
               AND NOT EXISTS (
                 SELECT FROM unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position)
                  WHERE given.type = ch.type AND given.position = ch.position AND given.value = ch.value AND given.normalized = ch.normalized);
            INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
            SELECT p_account_id, found_id, given.*
              FROM unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position)
             WHERE NOT EXISTS (
               SELECT FROM contact_channels ch
                WHERE ch.contact_id = found_id AND ch.type = given.type AND ch.position = given.position
                  AND ch.value = given.value AND ch.normalized = given.normalized);
          END IF;
          RETURN found_id;
        END LOOP;
        -- Three rounds lost to other writers: the caller answers that the contact is busy.
        RETURN NULL;
      END $$;
    `,
  },
  {
    version: 612,
    name: 'a channel write reaches its contact by key, whatever the plan cached for the connection assumed',
    sql: `
      -- The trigger's lookup of the channel's contact is planned once per connection, on the
      -- table as it is then. Planned during a new install's first import (a few hundred
      -- contacts), it scanned the table, and kept scanning it for every channel written on
      -- that connection as the table grew (until autovacuum next analyzed it): an import of
      -- 500 contacts into 20,000 touched ~380 pages per contact instead of ~23. A lookup by
      -- primary key is right at every size.
      ALTER FUNCTION export_contact_channel_changed() SET enable_seqscan = off;
    `,
  },
  {
    version: 613,
    name: "a retired push token's device found by key, whatever the plan cached for the connection assumed",
    sql: `
      -- 608's function, with the retirement of an old token's device planned for each call's
      -- values. Planned once per connection on a new install's near-empty tables, where every
      -- index on devices costs the same, it went through the change-tracking index (account_id
      -- first) and read the whole account's devices: changing one token among 20,000 devices
      -- touched ~380 pages. Planned for the values, it goes by (account_id, device_id).
      -- Turning off scans would not help (the plan used an index), and planning every call of
      -- the function would charge each registration (the insert) too: ~120 µs more per save.
      -- A changed token pays the planning of its retirement, ~0.1 ms.
      CREATE OR REPLACE FUNCTION devices_follow_push_channel() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'INSERT' AND OLD.type = 'mobilepush' THEN
          EXECUTE 'UPDATE devices SET deleted_at = now(), updated_at = now()
                    WHERE account_id = $1 AND device_id = $2 AND (contact_id = $3 OR contact_id IS NULL) AND deleted_at IS NULL'
            USING OLD.account_id, push_registration_device_id(OLD.value), OLD.contact_id;
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
    `,
  },
];
