import type { Migration } from '../migrate';

/**
 * Versions 2600–2699 belong to the rest of seed 004's API methods (issue #26): static
 * groups with ids, subscription categories, past events, SMS and Viber sends.
 */
export const esputnikApiMigrations: readonly Migration[] = [
  {
    version: 2600,
    name: 'static groups with ids, subscription categories, past events',
    sql: `
      -- Static groups are the names contact/subscribe puts in contacts.groups; the API names
      -- a group by id (group/{id}/contacts/detach), so each name gets one here on first use.
      -- Ids start far above the segments' (dynamic groups, from 1000) so the two never meet.
      CREATE TABLE static_groups (
        id          bigint GENERATED ALWAYS AS IDENTITY (START WITH 500000000) PRIMARY KEY,
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name        text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, name)
      );
      CREATE INDEX contacts_groups ON contacts USING gin (groups);

      -- The account's subscription categories (keys a contact subscribes to, GET subscriptions).
      CREATE TABLE subscription_categories (
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        key         text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, key)
      );
      -- NULL: never set (the contact gets every category); an array: exactly those.
      ALTER TABLE contacts ADD COLUMN subscriptions text[];

      -- Events recorded by past_events: history, kept for segments, lists and exports, that
      -- must never launch a workflow.
      ALTER TABLE events ADD COLUMN imported boolean NOT NULL DEFAULT false;
      CREATE INDEX events_type_key_value ON events(account_id, event_type_id, key_value);

      -- Mobile push tokens activated through contact/token/activated/{app_uuid}/{token_id}:
      -- the app's UUID beside the numeric application_id of seed 000's devices dataset.
      ALTER TABLE devices ADD COLUMN app_uuid uuid, ADD COLUMN activated boolean;
      CREATE UNIQUE INDEX devices_app_token ON devices(account_id, app_uuid, push_token) WHERE app_uuid IS NOT NULL;

      -- message/status finds a send by the iid its SENT activity gave it (the requestId).
      CREATE INDEX contact_activities_iid ON contact_activities(iid);
    `,
  },
  {
    version: 2601,
    name: 'SMS and Viber sends',
    sql: `
      -- One row per text message (SMS or Viber) handed to its channel. Apart from email's
      -- message_sends: the email queue and its sweep must never pick one up.
      CREATE TABLE text_sends (
        id                  bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000) PRIMARY KEY,
        account_id          bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        message_id          bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        contact_id          bigint REFERENCES contacts(id) ON DELETE SET NULL,
        activity_id         bigint REFERENCES contact_activities(id) ON DELETE SET NULL,
        media_type          text NOT NULL CHECK (media_type IN ('SMS', 'Viber')),
        sender              text NOT NULL,
        recipient           text NOT NULL,
        text                text NOT NULL,
        -- pending → sent (the provider took it) | failed (it did not)
        state               text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
        provider_message_id text,
        last_error          text,
        created_at          timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX text_sends_account ON text_sends(account_id, media_type, created_at);
      -- message/status goes from a SENT activity to its send.
      CREATE INDEX text_sends_activity ON text_sends(activity_id);
      CREATE INDEX message_sends_activity ON message_sends(activity_id);
    `,
  },
  {
    version: 2602,
    name: 'SMS and Viber sends through the texts queue',
    sql: `
      -- Texts leave through their own queue and worker, as email does: a send waits
      -- 'pending' until a worker claims it ('sending'), and a try the provider refused for
      -- now puts it back 'pending' with the time it is due again.
      ALTER TABLE text_sends DROP CONSTRAINT text_sends_state_check;
      ALTER TABLE text_sends ADD CONSTRAINT text_sends_state_check CHECK (state IN ('pending', 'sending', 'sent', 'failed'));
      ALTER TABLE text_sends
        ADD COLUMN attempts    integer NOT NULL DEFAULT 0,
        ADD COLUMN claimed_at  timestamptz,
        ADD COLUMN due_at      timestamptz NOT NULL DEFAULT now(),
        -- Viber's picture and button, read by the worker when it hands the message over.
        ADD COLUMN image_url   text,
        ADD COLUMN button_text text,
        ADD COLUMN button_url  text;
      -- The sweep's two questions: which pending sends lost their queue message, which claims were abandoned.
      CREATE INDEX text_sends_pending ON text_sends(due_at) WHERE state = 'pending';
      CREATE INDEX text_sends_sending ON text_sends(claimed_at) WHERE state = 'sending';
    `,
  },
];
