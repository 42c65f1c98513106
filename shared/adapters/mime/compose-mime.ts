import { randomBytes } from 'node:crypto';
import { encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';
import { encode as quotedPrintable, wrap as wrapQuotedPrintable } from 'nodemailer/lib/qp';
import type { OutgoingEmail } from '../../ports/email-channel';

/**
 * The RFC 5322 message both channels send: SMTP hands it over as is, SES as its Raw
 * content, so a recipient sees the same headers and parts whichever channel carried it.
 *
 * Built directly (multipart/alternative, quoted-printable UTF-8 parts, RFC 2047 words in
 * headers) with nodemailer's own encoders, rather than through its stream-based
 * MailComposer: that spent over a millisecond of CPU per email, more than everything else
 * a send does, for a message that never has attachments.
 */
export function composeMime(email: OutgoingEmail, date = new Date()): Promise<Buffer> {
  const boundary = `--_satellite_${email.sendId}_${randomBytes(6).toString('hex')}`;
  const lines: string[] = [];
  const header = (name: string, value: string) => lines.push(foldLines(`${name}: ${value}`, 76, false));
  header('From', mailbox(email.from.address, email.from.name));
  header('To', mailbox(email.to));
  if (email.replyTo) header('Reply-To', mailbox(email.replyTo));
  header('Subject', encodeWords(email.subject, 'Q', 52));
  header('Message-ID', email.messageId);
  header('Date', rfc5322Date(date));
  for (const [name, value] of Object.entries(email.headers)) header(name, value);
  header('MIME-Version', '1.0');
  lines.push(`Content-Type: multipart/alternative;\r\n boundary="${boundary}"`);
  lines.push('');
  for (const [type, content] of [
    ['text/plain', email.text],
    ['text/html', email.html],
  ] as const) {
    lines.push(
      `--${boundary}`,
      `Content-Type: ${type}; charset=utf-8`,
      'Content-Transfer-Encoding: quoted-printable',
      '',
      wrapQuotedPrintable(quotedPrintable(content), 76),
    );
  }
  lines.push(`--${boundary}--`, '');
  return Promise.resolve(Buffer.from(lines.join('\r\n'), 'utf8'));
}

/** `"Name" <address>`, the name as an RFC 2047 word when it is not plain ASCII. */
function mailbox(address: string, name?: string): string {
  if (!name) return address;
  const plain = /^[\x20-\x7e]*$/.test(name);
  const shown = plain ? `"${name.replace(/["\\]/g, '\\$&')}"` : encodeWords(name, 'Q', 52, true);
  return `${shown} <${address}>`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function rfc5322Date(date: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  return `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}
