import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { ACCOUNT_TAG, SEND_ID_TAG, type EmailChannel, type OutgoingEmail, type SendOutcome } from '../../ports/email-channel';
import { composeMime } from '../mime/compose-mime';
import { refusedSend, type RefusalNames } from './refused-send';

/** SendEmail's refusals. SES reports a recipient's hard bounce later, as an event: a refused call is never the recipient's fault. */
export const SES_REFUSALS: RefusalNames = {
  permanent: new Set(['MessageRejected', 'MailFromDomainNotVerifiedException', 'BadRequestException', 'NotFoundException']),
  // The account's send rate or daily quota.
  throttling: new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException', 'Throttling']),
  fallback: 'Amazon SES did not accept the message',
  permanentIsRecipients: false,
};

/**
 * Amazon SES through the v2 API's SendEmail with Raw content (the same MIME as SMTP), in
 * the stack's configuration set so its events (Delivery, Bounce, Complaint) reach the
 * events queue, tagged with the send and account ids.
 */
export class SesChannel implements EmailChannel {
  constructor(
    private readonly client: SESv2Client,
    private readonly configurationSet: string | undefined,
  ) {}

  async send(email: OutgoingEmail): Promise<SendOutcome> {
    const raw = await composeMime(email);
    try {
      const result = await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: email.from.address,
          Destination: { ToAddresses: [email.to] },
          Content: { Raw: { Data: raw } },
          EmailTags: [
            { Name: SEND_ID_TAG, Value: String(email.sendId) },
            { Name: ACCOUNT_TAG, Value: String(email.accountId) },
          ],
          ...(this.configurationSet ? { ConfigurationSetName: this.configurationSet } : {}),
        }),
      );
      return { kind: 'accepted', providerMessageId: result.MessageId ?? '', response: 'accepted by Amazon SES' };
    } catch (error) {
      return refusedSend(error, SES_REFUSALS);
    }
  }
}
