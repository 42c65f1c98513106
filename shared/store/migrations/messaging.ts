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
];
