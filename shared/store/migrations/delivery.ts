import type { Migration } from '../migrate';

/**
 * Versions 2500–2599 belong to email delivery (issue #25; numbered after the issue so that
 * capabilities added in parallel cannot take the same block).
 */
export const deliveryMigrations: readonly Migration[] = [
  {
    version: 2500,
    name: 'email delivery: sender settings, send states, suppressions, send rate, tracking keys',
    sql: `
      -- The account's sender and channel. channel 'platform' uses the stack's own channel
      -- (SES in AWS, the SMTP sink locally); 'smtp' a relay of the customer's, its password
      -- in the secret store (secret_ref), never here.
      CREATE TABLE email_settings (
        account_id           bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        from_address         text NOT NULL,
        from_name            text,
        reply_to             text,
        channel              text NOT NULL CHECK (channel IN ('platform', 'ses', 'smtp')),
        smtp_host            text,
        smtp_port            integer,
        smtp_security        text CHECK (smtp_security IN ('tls', 'starttls', 'none')),
        smtp_username        text,
        secret_ref           text,
        -- emails handed to the channel per second; null: the platform's default
        send_rate_per_second integer CHECK (send_rate_per_second > 0),
        updated_at           timestamptz NOT NULL DEFAULT now()
      );

      -- A send's life: pending (queued, due_at says when) → sending (claimed by one worker:
      -- the claim is what keeps a recipient from getting it twice) → sent (the channel
      -- accepted it) | failed (rejected for good, or out of retries) | suppressed (the
      -- address was suppressed before it left).
      ALTER TABLE message_sends
        ADD COLUMN plain_text          text,
        ADD COLUMN state               text NOT NULL DEFAULT 'pending'
                                       CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'suppressed')),
        ADD COLUMN attempts            integer NOT NULL DEFAULT 0,
        ADD COLUMN due_at              timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN claimed_at          timestamptz,
        ADD COLUMN channel             text,
        ADD COLUMN provider_message_id text,
        ADD COLUMN last_error          text;
      -- Rows written before delivery existed were never meant to leave.
      UPDATE message_sends SET state = 'sent' WHERE state = 'pending';
      CREATE INDEX message_sends_due ON message_sends(due_at) WHERE state = 'pending';
      CREATE INDEX message_sends_claimed ON message_sends(claimed_at) WHERE state = 'sending';
      CREATE INDEX message_sends_provider_message ON message_sends(provider_message_id) WHERE provider_message_id IS NOT NULL;

      -- Addresses no email goes to any more, per account: unsubscribed, hard-bounced or
      -- complained. Deleting the row (through the API) lifts it.
      CREATE TABLE email_suppressions (
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        address     text NOT NULL,
        reason      text NOT NULL CHECK (reason IN ('UNSUBSCRIBED', 'HARD_BOUNCE', 'SPAM')),
        send_id     bigint,
        detail      text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, address)
      );

      -- Token bucket per account: tokens left when last refilled.
      CREATE TABLE email_send_buckets (
        account_id  bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        tokens      double precision NOT NULL,
        refilled_at timestamptz NOT NULL
      );

      -- The key that signs the account's tracking and unsubscribe links.
      CREATE TABLE email_link_keys (
        account_id  bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        key         bytea NOT NULL
      );
    `,
  },
];
