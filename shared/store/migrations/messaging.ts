import type { Migration } from '../migrate';

/** Versions 500–599 belong to this capability (issue #5). */
export const messagingMigrations: readonly Migration[] = [
  {
    version: 500,
    name: 'message templates, language versions and the send outbox',
    sql: `
      -- Velocity templates of the main version; json_param_field names the event param
      -- (usually jsonParam) whose JSON becomes $data in a triggered send.
      ALTER TABLE messages
        ADD COLUMN html_text        text NOT NULL DEFAULT '',
        ADD COLUMN plain_text       text,
        ADD COLUMN json_param_field text,
        ADD COLUMN deleted_at       timestamptz;

      CREATE TABLE message_translations (
        message_id     bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        account_id     bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        language_code  text NOT NULL,
        subject        text NOT NULL,
        html_text      text NOT NULL,
        plain_text     text,
        PRIMARY KEY (message_id, language_code)
      );

      -- One row per rendered message handed to delivery (the outbox a sender drains).
      CREATE TABLE message_sends (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id      bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        message_id      bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        contact_id      bigint REFERENCES contacts(id) ON DELETE SET NULL,
        activity_id     bigint REFERENCES contact_activities(id) ON DELETE SET NULL,
        -- IM (triggered, smartsend) or Group (bulk)
        campaign_type   text NOT NULL,
        recipient       text NOT NULL,
        language_code   text,
        subject         text NOT NULL,
        html_text       text NOT NULL,
        source_event_id bigint,
        created_at      timestamptz NOT NULL DEFAULT now(),
        delivered_at    timestamptz
      );
      CREATE INDEX message_sends_account ON message_sends(account_id, id);
      CREATE INDEX message_sends_pending ON message_sends(id) WHERE delivered_at IS NULL;
    `,
  },
  {
    version: 501,
    name: 'regular workflows and the trigger-event ledger',
    sql: `
      -- A regular workflow: on its schedule, every member of a dynamic segment gets the event
      -- regularEventType-<segmentId> carrying the rows of the named sources as jsonParam.
      CREATE TABLE regular_workflows (
        id          bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000) PRIMARY KEY,
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name        text NOT NULL,
        segment_id  bigint NOT NULL REFERENCES segments(id) ON DELETE RESTRICT,
        source_ids  bigint[] NOT NULL DEFAULT '{}',
        -- sent to each member with the event's jsonParam as $data; none: events only
        message_id  bigint REFERENCES messages(id) ON DELETE SET NULL,
        schedule    text NOT NULL,
        enabled     boolean NOT NULL DEFAULT true,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX regular_workflows_account ON regular_workflows(account_id, id);

      -- One row per contact, segment and day an event was emitted: re-running a page (a
      -- redelivered queue message, a second schedule firing) emits nothing twice.
      CREATE TABLE trigger_event_emissions (
        account_id   bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        segment_id   bigint NOT NULL,
        contact_id   bigint NOT NULL,
        day          date NOT NULL,
        workflow_id  bigint NOT NULL,
        event_id     bigint NOT NULL,
        PRIMARY KEY (account_id, segment_id, day, contact_id)
      );
    `,
  },
  {
    version: 502,
    name: 'broadcasts sent by a queue worker: members, progress and one send per contact',
    sql: `
      -- recipients is set when the group is evaluated (once per broadcast); the worker then
      -- sends to broadcast_members in contact-id order, committing cursor_contact_id, the
      -- counts and the first failures after each page, so a redelivered job resumes there.
      ALTER TABLE broadcasts
        ADD COLUMN recipients        integer,
        ADD COLUMN sent              integer NOT NULL DEFAULT 0,
        ADD COLUMN failed            integer NOT NULL DEFAULT 0,
        ADD COLUMN failures          jsonb NOT NULL DEFAULT '[]'::jsonb,
        ADD COLUMN cursor_contact_id bigint NOT NULL DEFAULT 0,
        ADD COLUMN error_code        text,
        ADD COLUMN error_message     text;

      -- The group's members as evaluated when the broadcast started; removed when it ends.
      CREATE TABLE broadcast_members (
        broadcast_id  bigint NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
        contact_id    bigint NOT NULL,
        PRIMARY KEY (broadcast_id, contact_id)
      );

      -- A page that ran twice (its progress was lost after its sends committed) can never
      -- send the same broadcast to a contact again.
      ALTER TABLE message_sends ADD COLUMN broadcast_id bigint;
      CREATE UNIQUE INDEX message_sends_broadcast_contact ON message_sends(broadcast_id, contact_id) WHERE broadcast_id IS NOT NULL;
    `,
  },
  {
    version: 503,
    name: 'trigger-event pages kept until assembled',
    sql: `
      -- A run's pages not yet assembled; each is removed once its page is done. On AWS the
      -- queue keeps them too; the local runtime's queue lives in memory, and at start it
      -- queues these again, so a run cut off by a restart finishes (emissions are once per
      -- contact, segment and day, so a page done twice emits nothing twice).
      CREATE TABLE trigger_event_pages (
        id           bigserial PRIMARY KEY,
        account_id   bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        workflow_id  bigint NOT NULL,
        day          date NOT NULL,
        contact_ids  bigint[] NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 504,
    name: 'a regular workflow keeps the outcome of its last run',
    sql: `
      -- A scheduled run has no caller to answer: when its segment cannot be evaluated (the
      -- customer's database refuses the query) the workflow shows why, until the next run.
      ALTER TABLE regular_workflows
        ADD COLUMN last_run_at timestamptz,
        ADD COLUMN last_run_members integer,
        ADD COLUMN last_run_error_code text,
        ADD COLUMN last_run_error_message text;
    `,
  },
  {
    version: 505,
    name: 'a trigger-event page stores its events with two foreign-key checks per row, not four',
    sql: `
      -- A page stores a thousand events and ledger rows in one statement, and every foreign
      -- key is a lookup per row (about half of that statement's time). An event's account and
      -- type are checked together, which also refuses an event filed under another account's
      -- type; deleting an account still takes its events with it (through its event types).
      CREATE UNIQUE INDEX event_types_account_id ON event_types(account_id, id);
      ALTER TABLE events
        DROP CONSTRAINT events_account_id_fkey,
        DROP CONSTRAINT events_event_type_id_fkey,
        ADD CONSTRAINT events_account_event_type_fkey FOREIGN KEY (account_id, event_type_id)
          REFERENCES event_types(account_id, id) ON DELETE CASCADE NOT VALID;

      -- The ledger's rows go with their account through one statement-level trigger rather
      -- than a check per inserted row; they are only ever written in the statement that stores
      -- their events, whose own key checks the account.
      ALTER TABLE trigger_event_emissions DROP CONSTRAINT trigger_event_emissions_account_id_fkey;
      CREATE FUNCTION forget_trigger_event_emissions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM trigger_event_emissions e USING deleted_accounts d WHERE e.account_id = d.id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER accounts_forget_trigger_event_emissions AFTER DELETE ON accounts
        REFERENCING OLD TABLE AS deleted_accounts FOR EACH STATEMENT EXECUTE FUNCTION forget_trigger_event_emissions();
    `,
  },
  {
    version: 506,
    name: "events' composite key checked against the rows already stored",
    sql: `
      -- Apart from 505 (its own transaction): the scan of every stored event holds only a lock
      -- that lets events be written meanwhile, where 505's ALTER TABLE holds one that does not.
      -- New rows have been checked since 505.
      ALTER TABLE events VALIDATE CONSTRAINT events_account_event_type_fkey;
    `,
  },
  {
    version: 507,
    name: "events' account, type and contact checked once per statement, not once per row",
    sql: `
      -- Issue 27. A trigger-event page stores a thousand events in one statement, and each
      -- row ran two foreign-key checks (a query and a row lock each): a quarter of the page's
      -- cost. The same guarantees, checked once per statement over the rows it wrote:
      -- * an event's account and type exist together; each pair is locked FOR KEY SHARE once,
      --   as the key's check locked it, so a type (or its account) deleted meanwhile waits for
      --   the writing transaction and then takes its events with it;
      -- * an event's contact exists. It is not locked: contacts are only ever removed with
      --   their account (the API deletes softly), and that waits on the type's lock above;
      -- * a type deleted takes its events, a contact deleted leaves its events without one,
      --   each by one statement instead of a statement per deleted row (events have no index
      --   by contact: an account's deletion scanned them once per contact).
      -- Nothing rewrites the ids these refer to.
      ALTER TABLE events
        DROP CONSTRAINT events_account_event_type_fkey,
        DROP CONSTRAINT events_contact_id_fkey;

      CREATE FUNCTION events_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        pairs bigint;
        locked bigint;
        contact bigint;
      BEGIN
        SELECT count(*) INTO pairs FROM (SELECT DISTINCT account_id, event_type_id FROM written) given;
        PERFORM FROM event_types t
         WHERE (t.account_id, t.id) IN (SELECT account_id, event_type_id FROM written)
           FOR KEY SHARE OF t;
        GET DIAGNOSTICS locked = ROW_COUNT;
        IF locked < pairs THEN
          RAISE EXCEPTION 'an event refers to an event type that its account does not have'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'events_account_event_type_fkey', TABLE = 'events';
        END IF;
        SELECT w.contact_id INTO contact FROM written w
         WHERE w.contact_id IS NOT NULL AND NOT EXISTS (SELECT FROM contacts c WHERE c.id = w.contact_id)
         LIMIT 1;
        IF contact IS NOT NULL THEN
          RAISE EXCEPTION 'an event refers to contact %, which does not exist', contact
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'events_contact_id_fkey', TABLE = 'events';
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER events_check_inserted AFTER INSERT ON events
        REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION events_check_references();
      -- An event keeps the account, type and contact it was written with; only a deleted
      -- contact's events lose theirs.
      CREATE FUNCTION events_keep_references() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'an event keeps the account, type and contact it was written with'
          USING ERRCODE = 'foreign_key_violation', TABLE = 'events';
      END $$;
      CREATE TRIGGER events_keep_references BEFORE UPDATE OF account_id, event_type_id, contact_id ON events
        FOR EACH ROW WHEN (NEW.account_id IS DISTINCT FROM OLD.account_id OR NEW.event_type_id IS DISTINCT FROM OLD.event_type_id
                           OR NEW.contact_id IS DISTINCT FROM OLD.contact_id AND NEW.contact_id IS NOT NULL)
        EXECUTE FUNCTION events_keep_references();

      CREATE FUNCTION events_follow_deleted_types() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM events e USING deleted_types d WHERE e.account_id = d.account_id AND e.event_type_id = d.id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER event_types_delete_events AFTER DELETE ON event_types
        REFERENCING OLD TABLE AS deleted_types FOR EACH STATEMENT EXECUTE FUNCTION events_follow_deleted_types();

      CREATE FUNCTION events_forget_deleted_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE events e SET contact_id = NULL FROM deleted_contacts d WHERE e.contact_id = d.id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER contacts_forget_in_events AFTER DELETE ON contacts
        REFERENCING OLD TABLE AS deleted_contacts FOR EACH STATEMENT EXECUTE FUNCTION events_forget_deleted_contacts();
    `,
  },
  {
    version: 508,
    name: "events' references looked up by key, whatever the connection's cached plan assumed",
    sql: `
      -- As migration 708 does for activities: 507's checks, planned while a new install's
      -- tables were near empty, scanned them for every later statement on that connection.
      ALTER FUNCTION events_check_references() SET enable_seqscan = off;
    `,
  },
];
