import MailComposer from 'nodemailer/lib/mail-composer';
import type { OutgoingEmail } from '../../ports/email-channel';

/**
 * The RFC 5322 message both channels send: SMTP hands it over as is, SES as its Raw
 * content, so a recipient sees the same headers and parts whichever channel carried it.
 */
export function composeMime(email: OutgoingEmail): Promise<Buffer> {
  const composer = new MailComposer({
    from: email.from.name ? { name: email.from.name, address: email.from.address } : email.from.address,
    to: email.to,
    ...(email.replyTo ? { replyTo: email.replyTo } : {}),
    subject: email.subject,
    html: email.html,
    text: email.text,
    messageId: email.messageId,
    headers: { ...email.headers },
  });
  return composer.compile().build();
}
