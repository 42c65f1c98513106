import type { Migration } from '../migrate';

/**
 * Versions 300–399: the platform's own data (issue #3) — contacts and their channels,
 * devices, messages, broadcasts, contact activities, events, orders, order items and the
 * attribution of orders to activities (revenue). Exports (#6) read these tables; column
 * names follow the seeds' dataset fields in snake_case.
 */
export const contactsMigrations: readonly Migration[] = [
  {
    version: 300,
    name: 'platform data',
    sql: `
      CREATE TABLE contacts (
        id                   bigint GENERATED ALWAYS AS IDENTITY (START WITH 100000) PRIMARY KEY,
        account_id           bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        external_customer_id text,
        first_name           text,
        last_name            text,
        language_code        text,
        time_zone            text,
        address              jsonb,
        -- additional fields: {"<fieldId>": "<value>"}
        fields               jsonb NOT NULL DEFAULT '{}'::jsonb,
        -- SITE_AUTOMATED, I_MESSAGE, CAMPAIGN, IMPORT, MANUAL, SUBSCRIPTION, API, ORDER
        source               text NOT NULL DEFAULT 'API',
        confirmed            boolean NOT NULL DEFAULT true,
        email_status         text,
        total_sent           integer NOT NULL DEFAULT 0,
        total_received       integer NOT NULL DEFAULT 0,
        total_viewed         integer NOT NULL DEFAULT 0,
        total_clicked        integer NOT NULL DEFAULT 0,
        last_sent_at         timestamptz,
        last_received_at     timestamptz,
        last_viewed_at       timestamptz,
        last_clicked_at      timestamptz,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        deleted_at           timestamptz
      );
      -- One contact per external ID and account, deleted ones included (they are restored).
      CREATE UNIQUE INDEX contacts_external_id ON contacts(account_id, external_customer_id) WHERE external_customer_id IS NOT NULL;
      CREATE INDEX contacts_account ON contacts(account_id, id);

      -- email, sms, mobilepush, webpush, viber, telegram; at most two of a type per contact.
      CREATE TABLE contact_channels (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        contact_id  bigint NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        type        text NOT NULL,
        value       text NOT NULL,
        -- lower-cased email, digits-only phone: what matching compares
        normalized  text NOT NULL,
        position    smallint NOT NULL DEFAULT 0,
        created_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX contact_channels_lookup ON contact_channels(account_id, type, normalized);
      CREATE INDEX contact_channels_contact ON contact_channels(contact_id);

      CREATE TABLE devices (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id      bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        contact_id      bigint REFERENCES contacts(id) ON DELETE SET NULL,
        device_id       text NOT NULL,
        application_id  integer,
        app_version     text,
        category        text,
        device_model    text,
        language_code   text,
        os_type         text,
        os_version      text,
        push_token      text,
        time_zone       text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, device_id)
      );

      CREATE TABLE messages (
        id               bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000) PRIMARY KEY,
        account_id       bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name             text NOT NULL,
        -- Email, SMS, Web Push, Viber, Mobile Push, AppInbox, Widget, In-App, Telegram
        media_type       text NOT NULL DEFAULT 'Email',
        subject          text,
        sender           text,
        reply_to         text,
        tags             text[] NOT NULL DEFAULT '{}',
        language         text,
        annoyance_level  integer,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX messages_account ON messages(account_id, id);

      CREATE TABLE broadcasts (
        id          bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000) PRIMARY KEY,
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        message_id  bigint REFERENCES messages(id) ON DELETE SET NULL,
        name        text NOT NULL,
        media_type  text NOT NULL DEFAULT 'Email',
        group_ids   bigint[] NOT NULL DEFAULT '{}',
        -- IDLE, RUNNING, PAUSED, SCHEDULED, UNCONFIRMED, CONSIDERATION, BLOCKED
        status      text NOT NULL DEFAULT 'SCHEDULED',
        started_at  timestamptz,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX broadcasts_account ON broadcasts(account_id, id);

      -- Seed 001's activity fields; one row per activity, in the order it was recorded.
      CREATE TABLE contact_activities (
        id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id            bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        contact_id            bigint REFERENCES contacts(id) ON DELETE SET NULL,
        iid                   uuid NOT NULL DEFAULT gen_random_uuid(),
        -- DELIVERED, UNDELIVERED, RECEIVED, UNSUBSCRIBED, CLICKED, SPAM, SUBSCRIPTION_CHANGED, PUSH_SUBSCRIBED, SENT, ...
        activity_status       text NOT NULL,
        media_type            text NOT NULL,
        occurred_at           timestamptz NOT NULL,
        external_customer_id  text,
        email                 text,
        sms                   text,
        viber                 text,
        mobilepush            text,
        webpush               text,
        message_id            bigint,
        message_instance_id   bigint,
        message_name          text,
        message_tags          text,
        message_language_code text,
        message_url           text,
        broadcast_id          bigint,
        -- IM (triggered) or Group (bulk)
        campaign_type         text,
        click_event_link      text,
        status_description    text,
        hard_bounce           boolean,
        sender_name           text,
        utm_campaign          text,
        source_event_id       bigint,
        source_event_key      text,
        source_event_type_id  bigint,
        source_event_type_key text,
        workflow_id           bigint,
        workflow_block_id     text,
        workflow_instance_id  text,
        subscriptions         text[],
        status_data           jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at            timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX contact_activities_account_time ON contact_activities(account_id, occurred_at);
      CREATE INDEX contact_activities_contact ON contact_activities(contact_id, occurred_at);

      CREATE TABLE event_types (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        key         text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, key)
      );

      CREATE TABLE events (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id     bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        event_type_id  bigint NOT NULL REFERENCES event_types(id) ON DELETE CASCADE,
        event_key      uuid NOT NULL DEFAULT gen_random_uuid(),
        key_value      text,
        contact_id     bigint REFERENCES contacts(id) ON DELETE SET NULL,
        -- [{"name": "...", "value": "..."}] in the order given
        params         jsonb NOT NULL DEFAULT '[]'::jsonb,
        occurred_at    timestamptz NOT NULL DEFAULT now(),
        created_at     timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX events_account_time ON events(account_id, occurred_at);

      CREATE TABLE orders (
        id                 bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000) PRIMARY KEY,
        account_id         bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        contact_id         bigint REFERENCES contacts(id) ON DELETE SET NULL,
        external_order_id  text NOT NULL,
        external_customer_id text,
        -- INITIALIZED, IN PROGRESS, DELIVERED, CANCELED
        status             text NOT NULL,
        total_cost         numeric(18,4) NOT NULL,
        discount           numeric(18,4),
        currency           text,
        delivery_address   text,
        delivery_method    text,
        payment_method     text,
        email              text,
        phone              text,
        first_name         text,
        last_name          text,
        ordered_at         timestamptz NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, external_order_id)
      );

      CREATE TABLE order_items (
        id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id           bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        order_id             bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
        external_product_id  text NOT NULL,
        name                 text,
        description          text,
        cost                 numeric(18,4),
        quantity             integer NOT NULL DEFAULT 1,
        url                  text,
        image_url            text,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        UNIQUE (order_id, external_product_id)
      );

      -- Revenue: an order attributed to the activity (a click, an open) that led to it.
      CREATE TABLE revenue_attributions (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id   bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        order_id     bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
        activity_id  bigint NOT NULL REFERENCES contact_activities(id) ON DELETE CASCADE,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        UNIQUE (order_id, activity_id)
      );
    `,
  },
  {
    version: 301,
    name: 'contact identity, import jobs, groups',
    sql: `
      -- Static group names a subscription added the contact to.
      ALTER TABLE contacts ADD COLUMN groups text[] NOT NULL DEFAULT '{}';
      -- "External ID is not set": the conditional group reads this index, so it stays current for free.
      CREATE INDEX contacts_without_external_id ON contacts(account_id, id)
        WHERE external_customer_id IS NULL AND deleted_at IS NULL;
      CREATE INDEX contacts_fields ON contacts USING gin (fields jsonb_path_ops);
      CREATE INDEX contact_channels_contact_type ON contact_channels(contact_id, type);

      CREATE INDEX events_type_time ON events(account_id, event_type_id, occurred_at);
      CREATE INDEX contact_activities_attribution ON contact_activities(contact_id, activity_status, occurred_at)
        WHERE activity_status IN ('CLICKED', 'RECEIVED');
      CREATE INDEX orders_contact ON orders(contact_id);

      -- Bulk add/update (POST /api/v1/contacts): the request waits here, the queue carries its id.
      CREATE TABLE contact_import_jobs (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        -- QUEUED, RUNNING, FINISHED, FAILED
        status      text NOT NULL DEFAULT 'QUEUED',
        request     jsonb NOT NULL,
        total       integer NOT NULL,
        -- rows done, committed together with their chunk: a redelivered job resumes here
        processed   integer NOT NULL DEFAULT 0,
        created     integer NOT NULL DEFAULT 0,
        updated     integer NOT NULL DEFAULT 0,
        errors      jsonb NOT NULL DEFAULT '[]'::jsonb,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      CREATE INDEX contact_import_jobs_account ON contact_import_jobs(account_id, created_at);

      -- Conditional groups (dynamic segments). Issue #5 extends the condition vocabulary.
      CREATE TABLE segments (
        id          bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000) PRIMARY KEY,
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name        text NOT NULL,
        -- [{"field": "externalCustomerId", "operator": "notSet"}]
        conditions  jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX segments_account ON segments(account_id, id);
    `,
  },
  {
    version: 302,
    name: 'bulk import requests are released when their job ends',
    sql: `
      -- The status endpoint reports counts and per-row errors; the request (up to 3000
      -- contacts of personal data, several MB) is needed only while the job runs.
      ALTER TABLE contact_import_jobs ALTER COLUMN request DROP NOT NULL;
      UPDATE contact_import_jobs SET request = NULL WHERE status IN ('FINISHED', 'FAILED');
    `,
  },
  {
    version: 303,
    name: 'bulk import jobs count their failed rows',
    sql: `
      -- A job keeps its first 1000 per-row errors; the count of failed rows must go on past
      -- them, so it can no longer be the length of the kept list.
      ALTER TABLE contact_import_jobs ADD COLUMN failed integer NOT NULL DEFAULT 0;
      UPDATE contact_import_jobs SET failed = jsonb_array_length(errors);
    `,
  },
  {
    version: 304,
    name: 'a reported activity is recorded once',
    sql: `
      -- A channel that retries a call reports the same activities again. A report carrying the
      -- sender's iid has a key (send, status, second, link), and a key already recorded is
      -- skipped; reports without one have none, so the index never holds them.
      ALTER TABLE contact_activities ADD COLUMN report_key text;
      CREATE UNIQUE INDEX contact_activities_report ON contact_activities(account_id, report_key) WHERE report_key IS NOT NULL;
    `,
  },
  {
    version: 305,
    name: 'one index of channels by contact',
    sql: `
      -- (contact_id, type) serves every lookup by contact alone too, the cascade from contacts
      -- included; the narrower index only cost every channel write one more index entry.
      DROP INDEX contact_channels_contact;
    `,
  },
  {
    version: 306,
    name: 'a contact add/update is one function call',
    sql: `
      -- Seed 002's add/update in one call. Only the statements the case needs run (find, then
      -- update or insert, then channels), each small and planned once per connection, and the
      -- contact found is locked before it is read for the update: a writer that comes second
      -- waits and then works on the version the first one left.
      -- A NULL column parameter (name, language, time zone, address, external ID) keeps what
      -- the contact has; channels are stored-form arrays.
      CREATE FUNCTION save_contact(
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
        channels_locked boolean := false;
      BEGIN
        FOR attempt IN 1..3 LOOP
          found_id := NULL;
          IF p_external_id IS NOT NULL THEN
            SELECT c.id INTO found_id FROM contacts c
             WHERE c.account_id = p_account_id AND c.external_customer_id = p_external_id
             FOR NO KEY UPDATE;
          END IF;
          -- A live contact holding one of the channels, and no other external ID. Each pair is
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
            SELECT c.id INTO found_id
              FROM unnest(p_match_types, p_match_values, p_match_ranks) AS m(type, normalized, rank)
              CROSS JOIN LATERAL (
                SELECT ch.contact_id FROM contact_channels ch
                 WHERE ch.account_id = p_account_id AND ch.type = m.type AND ch.normalized = m.normalized
                OFFSET 0
              ) ch
              CROSS JOIN LATERAL (
                SELECT c.id, c.account_id FROM contacts c
                 WHERE c.id = ch.contact_id AND c.deleted_at IS NULL AND (p_external_id IS NULL OR c.external_customer_id IS NULL)
                OFFSET 0
              ) c
             WHERE c.account_id = p_account_id
             ORDER BY m.rank, c.id
             LIMIT 1;
            IF found_id IS NOT NULL THEN
              -- Locked, then checked again by statements of their own: one that started before
              -- the lock was granted would see the contact's channels as they were before the
              -- holder changed them. (Every writer of channels holds its contact's row lock.)
              SELECT c.id INTO found_id FROM contacts c
               WHERE c.id = found_id AND c.deleted_at IS NULL AND (p_external_id IS NULL OR c.external_customer_id IS NULL)
               FOR NO KEY UPDATE;
              IF found_id IS NULL THEN CONTINUE; END IF;
              PERFORM FROM contact_channels ch JOIN unnest(p_match_types, p_match_values) AS m(type, normalized)
                  ON ch.type = m.type AND ch.normalized = m.normalized
               WHERE ch.contact_id = found_id;
              IF NOT FOUND THEN CONTINUE; END IF;
            END IF;
          END IF;

          IF found_id IS NULL THEN
            INSERT INTO contacts AS c (account_id, external_customer_id, first_name, last_name, language_code, time_zone, address, fields, groups, source, confirmed)
            VALUES (p_account_id, p_external_id, p_first_name, p_last_name, p_language_code, p_time_zone, p_address,
                    jsonb_strip_nulls(p_fields), ARRAY(SELECT DISTINCT g FROM unnest(p_groups) g), p_source, p_confirmed)
            ON CONFLICT (account_id, external_customer_id) WHERE external_customer_id IS NOT NULL DO NOTHING
            RETURNING c.id INTO saved_id;
            -- Another call created this external ID meanwhile (and has committed): find it.
            IF saved_id IS NULL THEN CONTINUE; END IF;
            INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
            SELECT p_account_id, saved_id, given.*
              FROM unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position);
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
              fields = jsonb_strip_nulls(c.fields || p_fields),
              groups = ARRAY(SELECT DISTINCT g FROM unnest(c.groups || p_groups) g),
              deleted_at = NULL,
              updated_at = now()
           WHERE c.id = found_id
             AND (c.deleted_at IS NOT NULL
                  OR NOT (p_groups <@ c.groups)
                  OR jsonb_strip_nulls(c.fields || p_fields) IS DISTINCT FROM c.fields
                  OR c.external_customer_id IS DISTINCT FROM coalesce(p_external_id, c.external_customer_id)
                  OR c.first_name IS DISTINCT FROM coalesce(p_first_name, c.first_name)
                  OR c.last_name IS DISTINCT FROM coalesce(p_last_name, c.last_name)
                  OR c.language_code IS DISTINCT FROM coalesce(p_language_code, c.language_code)
                  OR c.time_zone IS DISTINCT FROM coalesce(p_time_zone, c.time_zone)
                  OR c.address IS DISTINCT FROM coalesce(p_address, c.address));

          -- For each type given, the contact's channels become the given ones; a channel given
          -- again in the same slot is kept as it is (no row churn, no export touch).
          IF cardinality(p_channel_types) > 0 THEN
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
    version: 307,
    name: 'devices by contact',
    sql: `
      -- A contact given an external ID marks its devices changed for exports, and deleting a
      -- contact clears theirs: both looked for the contact's devices in every account's.
      CREATE INDEX devices_contact ON devices(contact_id);
    `,
  },
  {
    version: 308,
    name: 'save_contact names the contact it inserts; channels drop their own account key',
    sql: `
      -- A channel's account is its contact's, whose own key already holds it to an existing
      -- account (and deletes it with the account): the second check cost every channel insert
      -- a lookup and a lock on the account row.
      ALTER TABLE contact_channels DROP CONSTRAINT contact_channels_account_id_fkey;

      -- As in 306, but the contact it inserts is named in a transaction-local setting, for the
      -- change tracking of exports (migration 606) to spare it a second write.
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
        channels_locked boolean := false;
        marked text;
      BEGIN
        FOR attempt IN 1..3 LOOP
          found_id := NULL;
          IF p_external_id IS NOT NULL THEN
            SELECT c.id INTO found_id FROM contacts c
             WHERE c.account_id = p_account_id AND c.external_customer_id = p_external_id
             FOR NO KEY UPDATE;
          END IF;
          -- A live contact holding one of the channels, and no other external ID. Each pair is
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
            SELECT c.id INTO found_id
              FROM unnest(p_match_types, p_match_values, p_match_ranks) AS m(type, normalized, rank)
              CROSS JOIN LATERAL (
                SELECT ch.contact_id FROM contact_channels ch
                 WHERE ch.account_id = p_account_id AND ch.type = m.type AND ch.normalized = m.normalized
                OFFSET 0
              ) ch
              CROSS JOIN LATERAL (
                SELECT c.id, c.account_id FROM contacts c
                 WHERE c.id = ch.contact_id AND c.deleted_at IS NULL AND (p_external_id IS NULL OR c.external_customer_id IS NULL)
                OFFSET 0
              ) c
             WHERE c.account_id = p_account_id
             ORDER BY m.rank, c.id
             LIMIT 1;
            IF found_id IS NOT NULL THEN
              -- Locked, then checked again by statements of their own: one that started before
              -- the lock was granted would see the contact's channels as they were before the
              -- holder changed them. (Every writer of channels holds its contact's row lock.)
              SELECT c.id INTO found_id FROM contacts c
               WHERE c.id = found_id AND c.deleted_at IS NULL AND (p_external_id IS NULL OR c.external_customer_id IS NULL)
               FOR NO KEY UPDATE;
              IF found_id IS NULL THEN CONTINUE; END IF;
              PERFORM FROM contact_channels ch JOIN unnest(p_match_types, p_match_values) AS m(type, normalized)
                  ON ch.type = m.type AND ch.normalized = m.normalized
               WHERE ch.contact_id = found_id;
              IF NOT FOUND THEN CONTINUE; END IF;
            END IF;
          END IF;

          IF found_id IS NULL THEN
            INSERT INTO contacts AS c (account_id, external_customer_id, first_name, last_name, language_code, time_zone, address, fields, groups, source, confirmed)
            VALUES (p_account_id, p_external_id, p_first_name, p_last_name, p_language_code, p_time_zone, p_address,
                    jsonb_strip_nulls(p_fields), ARRAY(SELECT DISTINCT g FROM unnest(p_groups) g), p_source, p_confirmed)
            ON CONFLICT (account_id, external_customer_id) WHERE external_customer_id IS NOT NULL DO NOTHING
            -- Marked in the same statement (a statement of its own cost more than it spares):
            -- its channels, inserted next, then need not touch it for exports.
            RETURNING c.id, set_config('satellite.inserted_contact', c.id::text, true) INTO saved_id, marked;
            -- Another call created this external ID meanwhile (and has committed): find it.
            IF saved_id IS NULL THEN CONTINUE; END IF;
            INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
            SELECT p_account_id, saved_id, given.*
              FROM unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position);
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
              fields = jsonb_strip_nulls(c.fields || p_fields),
              groups = ARRAY(SELECT DISTINCT g FROM unnest(c.groups || p_groups) g),
              deleted_at = NULL,
              updated_at = now()
           WHERE c.id = found_id
             AND (c.deleted_at IS NOT NULL
                  OR NOT (p_groups <@ c.groups)
                  OR jsonb_strip_nulls(c.fields || p_fields) IS DISTINCT FROM c.fields
                  OR c.external_customer_id IS DISTINCT FROM coalesce(p_external_id, c.external_customer_id)
                  OR c.first_name IS DISTINCT FROM coalesce(p_first_name, c.first_name)
                  OR c.last_name IS DISTINCT FROM coalesce(p_last_name, c.last_name)
                  OR c.language_code IS DISTINCT FROM coalesce(p_language_code, c.language_code)
                  OR c.time_zone IS DISTINCT FROM coalesce(p_time_zone, c.time_zone)
                  OR c.address IS DISTINCT FROM coalesce(p_address, c.address));

          -- For each type given, the contact's channels become the given ones; a channel given
          -- again in the same slot is kept as it is (no row churn, no export touch).
          IF cardinality(p_channel_types) > 0 THEN
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
    version: 309,
    name: 'a save with an external ID refuses a contact found by channel that has another',
    sql: `
      -- Issue 20 (seed 002, subscribe: external ID, then email, then phone). As in 308, but a
      -- contact found by a channel is no longer passed over when it has another external ID
      -- (which created a second contact with the same email): the call fails with SQLSTATE
      -- SX409, the contact's id in DETAIL and the channel type in HINT, and writes nothing.
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
        marked text;
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
            INSERT INTO contacts AS c (account_id, external_customer_id, first_name, last_name, language_code, time_zone, address, fields, groups, source, confirmed)
            VALUES (p_account_id, p_external_id, p_first_name, p_last_name, p_language_code, p_time_zone, p_address,
                    jsonb_strip_nulls(p_fields), ARRAY(SELECT DISTINCT g FROM unnest(p_groups) g), p_source, p_confirmed)
            ON CONFLICT (account_id, external_customer_id) WHERE external_customer_id IS NOT NULL DO NOTHING
            -- Marked in the same statement (a statement of its own cost more than it spares):
            -- its channels, inserted next, then need not touch it for exports.
            RETURNING c.id, set_config('satellite.inserted_contact', c.id::text, true) INTO saved_id, marked;
            -- Another call created this external ID meanwhile (and has committed): find it.
            IF saved_id IS NULL THEN CONTINUE; END IF;
            INSERT INTO contact_channels (account_id, contact_id, type, value, normalized, position)
            SELECT p_account_id, saved_id, given.*
              FROM unnest(p_channel_types, p_channel_values, p_channel_normalized, p_channel_positions) AS given(type, value, normalized, position);
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
              fields = jsonb_strip_nulls(c.fields || p_fields),
              groups = ARRAY(SELECT DISTINCT g FROM unnest(c.groups || p_groups) g),
              deleted_at = NULL,
              updated_at = now()
           WHERE c.id = found_id
             AND (c.deleted_at IS NOT NULL
                  OR NOT (p_groups <@ c.groups)
                  OR jsonb_strip_nulls(c.fields || p_fields) IS DISTINCT FROM c.fields
                  OR c.external_customer_id IS DISTINCT FROM coalesce(p_external_id, c.external_customer_id)
                  OR c.first_name IS DISTINCT FROM coalesce(p_first_name, c.first_name)
                  OR c.last_name IS DISTINCT FROM coalesce(p_last_name, c.last_name)
                  OR c.language_code IS DISTINCT FROM coalesce(p_language_code, c.language_code)
                  OR c.time_zone IS DISTINCT FROM coalesce(p_time_zone, c.time_zone)
                  OR c.address IS DISTINCT FROM coalesce(p_address, c.address));

          -- For each type given, the contact's channels become the given ones; a channel given
          -- again in the same slot is kept as it is (no row churn, no export touch).
          IF cardinality(p_channel_types) > 0 THEN
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
    version: 310,
    name: 'segments keep the id they had on the platform an account moved from',
    sql: `
      -- A regular workflow's event key is regularEventType-<legacy_id> when the segment has
      -- one (eSputnik's regularEventType-170531841), so migrated event consumers keep working.
      ALTER TABLE segments ADD COLUMN legacy_id bigint CHECK (legacy_id > 0);
      CREATE UNIQUE INDEX segments_account_legacy_id ON segments(account_id, legacy_id) WHERE legacy_id IS NOT NULL;
    `,
  },
];
