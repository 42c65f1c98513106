import { SendTextMessageCommand, type PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { ACCOUNT_TAG, SEND_ID_TAG, type SendOutcome } from '../../ports/email-channel';
import type { OutgoingText, TextChannel } from '../../ports/text-channel';
import { refusedSend, type RefusalNames } from './refused-send';

/** SendTextMessage's refusals; a permanent one is the number's (ValidationException: not a valid destination). */
export const SMS_REFUSALS: RefusalNames = {
  permanent: new Set(['ValidationException', 'AccessDeniedException', 'ResourceNotFoundException', 'ConflictException']),
  // The account's message rate or spend limit.
  throttling: new Set(['ThrottlingException', 'ServiceQuotaExceededException']),
  fallback: 'the SMS was not accepted',
  permanentIsRecipients: true,
};

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
      return refusedSend(error, SMS_REFUSALS);
    }
  }
}
