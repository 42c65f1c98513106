import { SendTextMessageCommand, type PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { ACCOUNT_TAG, SEND_ID_TAG, type SendOutcome } from '../../ports/email-channel';
import type { OutgoingText, TextChannel } from '../../ports/text-channel';

/** Errors of SendTextMessage that retrying cannot fix. */
const PERMANENT_ERRORS = new Set(['ValidationException', 'AccessDeniedException', 'ResourceNotFoundException', 'ConflictException']);
/** "Slow down": the account's message rate or spend limit. */
const THROTTLING_ERRORS = new Set(['ThrottlingException', 'ServiceQuotaExceededException']);

/**
 * AWS End User Messaging SMS (the Pinpoint SMS and Voice v2 API): SendTextMessage from the
 * stack's origination identity (sender ID, phone number or pool), transactional, with the
 * send and account ids in its Context so a later delivery event can find the send.
 */
export class EndUserMessagingSmsChannel implements TextChannel {
  constructor(
    private readonly client: PinpointSMSVoiceV2Client,
    private readonly configurationSet: string | undefined,
  ) {}

  async send(message: OutgoingText): Promise<SendOutcome> {
    try {
      const result = await this.client.send(
        new SendTextMessageCommand({
          DestinationPhoneNumber: `+${message.to}`,
          OriginationIdentity: message.from,
          MessageBody: message.text,
          MessageType: 'TRANSACTIONAL',
          Context: { [SEND_ID_TAG]: String(message.sendId), [ACCOUNT_TAG]: String(message.accountId) },
          ...(this.configurationSet ? { ConfigurationSetName: this.configurationSet } : {}),
        }),
      );
      return { kind: 'accepted', providerMessageId: result.MessageId ?? '', response: 'accepted by AWS End User Messaging SMS' };
    } catch (error) {
      const failure = (error ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const name = failure.name ?? 'Error';
      const description = `${name}: ${failure.message ?? 'the SMS was not accepted'}`.slice(0, 1000);
      const throttled = THROTTLING_ERRORS.has(name) || failure.$metadata?.httpStatusCode === 429;
      const permanent = !throttled && PERMANENT_ERRORS.has(name);
      return { kind: 'rejected', permanent, throttled, recipientRejected: permanent, description };
    }
  }
}
