import type { Migration } from '../migrate';

/** Versions 700–799 belong to this capability (issue #7). */
export const webhooksMigrations: readonly Migration[] = [
  {
    version: 700,
    name: 'webhook endpoints, outbox and delivery attempts',
    sql: `
      -- A lane is one run of an account's ordered delivery; resuming or re-creating an endpoint
      -- opens a new lane so messages still queued for the old one are recognised and dropped.
      CREATE SEQUENCE webhook_lanes;

      CREATE TABLE webhook_endpoints (
        account_id                 bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        url                        text NOT NULL,
        state                      text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended')),
        lane                       bigint NOT NULL DEFAULT nextval('webhook_lanes'),
        secret                     text NOT NULL,
        previous_secret            text,
        previous_secret_expires_at timestamptz,
        consecutive_failures       integer NOT NULL DEFAULT 0,
        suspended_at               timestamptz,
        suspended_reason           text,
        verified_at                timestamptz NOT NULL,
        created_at                 timestamptz NOT NULL DEFAULT now(),
        updated_at                 timestamptz NOT NULL DEFAULT now()
      );

      -- Activities waiting for delivery, in delivery order; a row is deleted once its POST got a 200.
      CREATE TABLE webhook_outbox (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id   bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        activity_id  bigint NOT NULL REFERENCES contact_activities(id) ON DELETE CASCADE,
        -- The lane this row was last put on the queue in; NULL until the first relay.
        relayed_lane bigint,
        created_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX webhook_outbox_account ON webhook_outbox(account_id, id);

      CREATE TABLE webhook_attempts (
        id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id        bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        attempted_at      timestamptz NOT NULL,
        webhook_id        text NOT NULL,
        activity_count    integer NOT NULL,
        first_activity_id bigint,
        last_activity_id  bigint,
        delivered         boolean NOT NULL,
        status_code       integer,
        error             text,
        latency_ms        integer NOT NULL,
        response_excerpt  text
      );
      CREATE INDEX webhook_attempts_account ON webhook_attempts(account_id, id DESC);
    `,
  },
  {
    version: 701,
    name: 'webhook relay claims its rows in one call',
    sql: `
      -- The relay locks the endpoint (waiting for every recording transaction that holds it
      -- FOR SHARE) and then marks the rows not yet queued in the current lane. The UPDATE must
      -- run under a snapshot taken after the lock, or it would miss rows committed while it
      -- waited and queue later ones ahead of them; a VOLATILE function gives each statement a
      -- fresh snapshot, so both steps cost one round trip. The lock lasts until the caller's
      -- transaction ends, after it has sent the messages.
      CREATE FUNCTION webhook_relay_claim(relayed_account bigint)
        RETURNS TABLE (lane bigint, outbox_id bigint)
        LANGUAGE plpgsql VOLATILE
      AS $$
      DECLARE
        endpoint record;
      BEGIN
        SELECT e.state, e.lane INTO endpoint FROM webhook_endpoints e WHERE e.account_id = relayed_account FOR UPDATE;
        IF NOT FOUND OR endpoint.state <> 'active' THEN
          RETURN;
        END IF;
        RETURN QUERY
          UPDATE webhook_outbox o SET relayed_lane = endpoint.lane
           WHERE o.account_id = relayed_account AND o.relayed_lane IS DISTINCT FROM endpoint.lane
          RETURNING endpoint.lane, o.id;
      END
      $$;
    `,
  },
  {
    version: 702,
    name: 'webhook relay keeps a watermark instead of marking rows',
    sql: `
      -- Marking every relayed row made each relay rewrite its rows and scan all of the
      -- account's undelivered ones (a backlog made every relay slower). The endpoint now keeps
      -- the last outbox id relayed in its lane; rows above it are the ones to relay. Outbox ids
      -- are drawn under the endpoint's share lock, so none can appear below the watermark later.
      ALTER TABLE webhook_endpoints ADD COLUMN relayed_through bigint NOT NULL DEFAULT 0;
      UPDATE webhook_endpoints e SET relayed_through = COALESCE(
        (SELECT min(o.id) - 1 FROM webhook_outbox o WHERE o.account_id = e.account_id AND o.relayed_lane IS DISTINCT FROM e.lane),
        (SELECT max(o.id) FROM webhook_outbox o WHERE o.account_id = e.account_id),
        0);
      DROP FUNCTION webhook_relay_claim(bigint);
      ALTER TABLE webhook_outbox DROP COLUMN relayed_lane;

      -- Same contract as before (migration 701): the lock first, then a statement with a
      -- fresh snapshot that sees every row committed while the lock was awaited.
      CREATE FUNCTION webhook_relay_claim(relayed_account bigint)
        RETURNS TABLE (lane bigint, outbox_id bigint)
        LANGUAGE plpgsql VOLATILE
      AS $$
      DECLARE
        endpoint record;
      BEGIN
        SELECT e.state, e.lane, e.relayed_through INTO endpoint
          FROM webhook_endpoints e WHERE e.account_id = relayed_account FOR UPDATE;
        IF NOT FOUND OR endpoint.state <> 'active' THEN
          RETURN;
        END IF;
        RETURN QUERY
          WITH claimed AS (
            SELECT o.id FROM webhook_outbox o
             WHERE o.account_id = relayed_account AND o.id > endpoint.relayed_through
          ),
          advanced AS (
            UPDATE webhook_endpoints SET relayed_through = (SELECT max(id) FROM claimed)
             WHERE account_id = relayed_account AND EXISTS (SELECT FROM claimed)
          )
          SELECT endpoint.lane, claimed.id FROM claimed ORDER BY claimed.id;
      END
      $$;
    `,
  },
  {
    version: 703,
    name: 'webhook outbox rows no longer lock their activity',
    sql: `
      -- An outbox row lives from the recording commit to its POST. Its foreign key to the
      -- activity cost a key lookup and a row lock on every recorded activity, about half of
      -- the outbox insert's time. The row is written only for an activity the same statement
      -- has just found in the account (publishRecordedActivities), activities are deleted only
      -- with their account, and the account's own key still removes the outbox rows with it.
      ALTER TABLE webhook_outbox DROP CONSTRAINT webhook_outbox_activity_id_fkey;
    `,
  },
  {
    version: 704,
    name: 'webhook attempts are found by age',
    sql: `
      -- Attempts are kept for a retention period; the hourly prune finds the expired ones here.
      CREATE INDEX webhook_attempts_attempted_at ON webhook_attempts(attempted_at);
    `,
  },
  {
    version: 705,
    name: 'a retried webhook POST keeps its activities',
    sql: `
      -- The outbox rows of the POST that failed at the head of the lane, until a POST succeeds:
      -- the retry sends exactly these again under the same webhook-id, however the queue
      -- batches the lane's messages next time, so a receiver can deduplicate on that id.
      ALTER TABLE webhook_endpoints ADD COLUMN retry_first_outbox_id bigint, ADD COLUMN retry_last_outbox_id bigint;
    `,
  },
  {
    version: 706,
    name: 'a failing webhook says when it is tried next',
    sql: `
      -- Written when a POST fails and the lane is held back for its backoff; cleared by a
      -- delivery, a resume or a suspension. The queue knows the time too, but cannot be asked.
      ALTER TABLE webhook_endpoints ADD COLUMN next_attempt_at timestamptz;
    `,
  },
  {
    version: 707,
    name: 'activities and outbox rows checked against their account and contact once per statement',
    sql: `
      -- Issue 27. Recording a batch of activities ran, per activity, a foreign-key check on its
      -- account for the activity and again for its outbox row (each a query and a lock on the
      -- account row), and one on its contact: a tenth to a third of PostgreSQL's cost of
      -- recording it, as measured. The same guarantees, checked once per statement (as
      -- migration 507 does for events):
      -- * each account written is locked FOR KEY SHARE once, as the key's check locked it, so an
      --   account deleted meanwhile waits for the writer, then takes its rows with it;
      -- * an activity's contact exists. It is not locked: contacts are only ever removed with
      --   their account (the API deletes softly), and that waits on the account's lock;
      -- * an account deleted takes its activities and outbox rows, a contact deleted leaves its
      --   activities without one, each by one statement;
      -- * an activity keeps the account and contact it was recorded with (only a deleted
      --   contact's activities lose theirs), an outbox row its account.
      ALTER TABLE contact_activities
        DROP CONSTRAINT contact_activities_account_id_fkey,
        DROP CONSTRAINT contact_activities_contact_id_fkey;
      ALTER TABLE webhook_outbox DROP CONSTRAINT webhook_outbox_account_id_fkey;

      -- TG_ARGV[0]: the constraint a refusal of the account names (the foreign key it stands
      -- for); TG_ARGV[1], where given: the same for the rows' contact_id. One call per statement.
      CREATE FUNCTION check_written_references() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        accounts_written bigint;
        locked bigint;
        contact bigint;
      BEGIN
        SELECT count(DISTINCT account_id) INTO accounts_written FROM written;
        PERFORM FROM accounts a WHERE a.id IN (SELECT account_id FROM written) FOR KEY SHARE OF a;
        GET DIAGNOSTICS locked = ROW_COUNT;
        IF locked < accounts_written THEN
          RAISE EXCEPTION 'a row of % refers to an account that does not exist', TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[0], TABLE = TG_TABLE_NAME;
        END IF;
        IF TG_NARGS > 1 THEN
          SELECT w.contact_id INTO contact FROM written w
           WHERE w.contact_id IS NOT NULL AND NOT EXISTS (SELECT FROM contacts c WHERE c.id = w.contact_id)
           LIMIT 1;
          IF contact IS NOT NULL THEN
            RAISE EXCEPTION 'a row of % refers to contact %, which does not exist', TG_TABLE_NAME, contact
              USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[1], TABLE = TG_TABLE_NAME;
          END IF;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER contact_activities_check_references AFTER INSERT ON contact_activities
        REFERENCING NEW TABLE AS written FOR EACH STATEMENT
        EXECUTE FUNCTION check_written_references('contact_activities_account_id_fkey', 'contact_activities_contact_id_fkey');
      CREATE TRIGGER webhook_outbox_check_references AFTER INSERT ON webhook_outbox
        REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION check_written_references('webhook_outbox_account_id_fkey');

      CREATE FUNCTION keep_written_references() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'a row of % keeps the account and contact it was written with', TG_TABLE_NAME
          USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
      END $$;
      CREATE TRIGGER contact_activities_keep_references BEFORE UPDATE OF account_id, contact_id ON contact_activities
        FOR EACH ROW WHEN (NEW.account_id IS DISTINCT FROM OLD.account_id OR NEW.contact_id IS DISTINCT FROM OLD.contact_id AND NEW.contact_id IS NOT NULL)
        EXECUTE FUNCTION keep_written_references();
      CREATE TRIGGER webhook_outbox_keep_references BEFORE UPDATE OF account_id ON webhook_outbox
        FOR EACH ROW WHEN (NEW.account_id IS DISTINCT FROM OLD.account_id)
        EXECUTE FUNCTION keep_written_references();

      CREATE FUNCTION forget_deleted_accounts_activities() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM webhook_outbox o USING deleted_accounts d WHERE o.account_id = d.id;
        DELETE FROM contact_activities a USING deleted_accounts d WHERE a.account_id = d.id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER accounts_forget_activities AFTER DELETE ON accounts
        REFERENCING OLD TABLE AS deleted_accounts FOR EACH STATEMENT EXECUTE FUNCTION forget_deleted_accounts_activities();

      CREATE FUNCTION forget_deleted_contacts_activities() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE contact_activities a SET contact_id = NULL FROM deleted_contacts d WHERE a.contact_id = d.id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER contacts_forget_in_activities AFTER DELETE ON contacts
        REFERENCING OLD TABLE AS deleted_contacts FOR EACH STATEMENT EXECUTE FUNCTION forget_deleted_contacts_activities();
    `,
  },
  {
    version: 708,
    name: "activities' and outbox rows' references looked up by key, whatever the connection's cached plan assumed",
    sql: `
      -- The checks of 707 are planned once per connection, on the tables as they are then.
      -- Planned while a new install had a few hundred contacts, the contact check hashed the
      -- whole contacts table, and kept doing so for every statement on that connection as the
      -- table grew (until autovacuum next analyzed it): one activity recorded among 20,000
      -- contacts touched ~310 of their pages instead of ~3. A lookup by key is right at every
      -- size.
      ALTER FUNCTION check_written_references() SET enable_seqscan = off;
    `,
  },
];
