/**
 * The only thing domain code knows about sending email: a channel takes one fully composed
 * message for one recipient and says what became of it. SES (API v2) in the stack and SMTP
 * (any relay, the local sink) are its adapters.
 */
export interface OutgoingEmail {
  /** The send's id: SES carries it back in its events as a message tag. */
  readonly sendId: number;
  readonly accountId: number;
  readonly from: { readonly address: string; readonly name?: string };
  readonly replyTo?: string;
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** Derived from the send id, so a message found in a mailbox names its send. */
  readonly messageId: string;
  /** Extra headers (List-Unsubscribe, List-Unsubscribe-Post, …). */
  readonly headers: Readonly<Record<string, string>>;
}

export type SendOutcome =
  /** The provider took the message; SMTP: the receiving server said 250. */
  | { readonly kind: 'accepted'; readonly providerMessageId: string; readonly response: string }
  /**
   * It did not. `permanent`: retrying cannot help (a 5xx, a message SES refuses); else a
   * temporary failure worth retrying. `throttled`: the provider asks us to slow down.
   */
  | {
      readonly kind: 'rejected';
      readonly permanent: boolean;
      readonly throttled: boolean;
      /** The receiving side refused this recipient for good (a hard bounce): the address gets suppressed. */
      readonly recipientRejected: boolean;
      readonly description: string;
    };

export interface EmailChannel {
  send(email: OutgoingEmail): Promise<SendOutcome>;
}

/**
 * Message tags a provider that reports events later (SES) carries back in every event:
 * how an event finds its send.
 */
export const SEND_ID_TAG = 'satellite-send';
export const ACCOUNT_TAG = 'satellite-account';

/** How an account's email leaves, as its settings say. */
export type ChannelRoute =
  | { readonly kind: 'ses' }
  | {
      readonly kind: 'smtp';
      readonly host: string;
      readonly port: number;
      readonly security: 'tls' | 'starttls' | 'none';
      readonly username?: string;
      readonly password?: string;
    };

/** Opens (and keeps) channels; an SMTP relay's connections are pooled per route. */
export interface EmailChannels {
  open(route: ChannelRoute): EmailChannel;
  close(): Promise<void>;
}
