import type { SendOutcome } from './email-channel';

/**
 * What domain code knows about sending SMS and Viber: a channel takes one text for one
 * phone number and says what became of it (the same outcomes as email's channel). AWS End
 * User Messaging SMS is the SMS adapter; locally a sink speaking its wire format takes both.
 */
export interface OutgoingText {
  readonly sendId: number;
  readonly accountId: number;
  readonly mediaType: 'SMS' | 'Viber';
  /** The sender ID / origination identity. */
  readonly from: string;
  /** E.164 digits without the plus. */
  readonly to: string;
  readonly text: string;
  /** Viber only: a picture and a button under the text. */
  readonly imageUrl?: string;
  readonly button?: { readonly text: string; readonly url: string };
}

export interface TextChannel {
  send(message: OutgoingText): Promise<SendOutcome>;
}

export interface TextChannels {
  readonly sms: TextChannel;
  readonly viber: TextChannel;
}
