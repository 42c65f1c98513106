import { createTransport, type Transporter } from 'nodemailer';
import type { ChannelRoute, EmailChannel, EmailChannels, OutgoingEmail, SendOutcome } from '../../ports/email-channel';
import { composeMime } from '../mime/compose-mime';

type SmtpRoute = Extract<ChannelRoute, { kind: 'smtp' }>;

/** Connections kept open to one relay: a broadcast's emails share them instead of a handshake each. */
const MAX_CONNECTIONS = 8;

/**
 * SMTP through nodemailer's pooled transport. The message is composed once (see
 * `composeMime`) and handed over raw, with the envelope named explicitly.
 */
export class SmtpChannel implements EmailChannel {
  constructor(private readonly transport: Transporter) {}

  async send(email: OutgoingEmail): Promise<SendOutcome> {
    const raw = await composeMime(email);
    try {
      const info = (await this.transport.sendMail({ envelope: { from: email.from.address, to: [email.to] }, raw })) as {
        response?: string;
        rejected?: unknown[];
        rejectedErrors?: unknown[];
      };
      const rejected = Array.isArray(info.rejected) && info.rejected.length > 0;
      if (rejected) return classifySmtpFailure(info.rejectedErrors?.[0]);
      return { kind: 'accepted', providerMessageId: email.messageId, response: String(info.response ?? '250') };
    } catch (error) {
      return classifySmtpFailure(error);
    }
  }
}

/**
 * 5xx is a permanent answer (RFC 5321 §4.2.1); 4xx and connection failures are transient.
 * 421 and 454 (and 451 with "rate" in it, as several relays say it) ask the sender to slow
 * down. Only a 5xx to the recipient or the message (RCPT TO, DATA) is a hard bounce: one to
 * MAIL FROM is the sender's problem, and a refused login or connection is a settings
 * problem worth retrying once fixed, neither a reason to suppress the recipient.
 */
export function classifySmtpFailure(error: unknown): SendOutcome {
  const failure = (error ?? {}) as { responseCode?: number; response?: string; message?: string; command?: string };
  const code = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const description = (failure.response ?? failure.message ?? 'the SMTP server did not accept the message').slice(0, 1000);
  const command = (failure.command ?? '').toUpperCase();
  const settingsProblem = /^(AUTH|CONN|EHLO|HELO|LHLO|STARTTLS|GREETING)/.test(command);
  const permanent = code !== undefined && code >= 500 && code < 600 && !settingsProblem;
  const throttled = code === 421 || code === 454 || (code === 451 && /rate|too many|throttl/i.test(description));
  const recipientRejected = permanent && !command.startsWith('MAIL');
  return { kind: 'rejected', permanent, throttled, recipientRejected, description };
}

/** One pooled transport per relay (host, port, user), reused by every send of the process. */
export class SmtpChannels implements EmailChannels {
  private readonly pooled = new Map<string, Transporter>();

  open(route: ChannelRoute): EmailChannel {
    if (route.kind !== 'smtp') throw new Error(`SmtpChannels cannot open a ${route.kind} channel`);
    const key = JSON.stringify([route.host, route.port, route.security, route.username ?? '', route.password ?? '']);
    let transport = this.pooled.get(key);
    if (!transport) {
      transport = createSmtpTransport(route);
      this.pooled.set(key, transport);
    }
    return new SmtpChannel(transport);
  }

  async close(): Promise<void> {
    for (const transport of this.pooled.values()) transport.close();
    this.pooled.clear();
  }
}

function createSmtpTransport(route: SmtpRoute): Transporter {
  return createTransport({
    pool: true,
    maxConnections: MAX_CONNECTIONS,
    maxMessages: Infinity,
    host: route.host,
    port: route.port,
    secure: route.security === 'tls',
    ignoreTLS: route.security === 'none',
    requireTLS: route.security === 'starttls',
    ...(route.username ? { auth: { user: route.username, pass: route.password ?? '' } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
}
