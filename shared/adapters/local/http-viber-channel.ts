import type { SendOutcome } from '../../ports/email-channel';
import type { OutgoingText, TextChannel } from '../../ports/text-channel';

/**
 * Viber through a plain JSON endpoint (the local text sink's `/viber`): POST the message,
 * a 2xx with `{messageId}` is accepted, a 4xx refused for good, anything else for now.
 */
export class HttpViberChannel implements TextChannel {
  constructor(private readonly endpoint: string) {}

  async send(message: OutgoingText): Promise<SendOutcome> {
    try {
      const response = await fetch(`${this.endpoint.replace(/\/$/, '')}/viber`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          sendId: message.sendId,
          from: message.from,
          to: message.to,
          text: message.text,
          imageUrl: message.imageUrl,
          button: message.button,
        }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await response.json().catch(() => ({}))) as { messageId?: string; message?: string };
      if (response.ok) return { kind: 'accepted', providerMessageId: body.messageId ?? '', response: `HTTP ${response.status}` };
      const description = `HTTP ${response.status}: ${body.message ?? 'the Viber message was not accepted'}`.slice(0, 1000);
      const permanent = response.status >= 400 && response.status < 500 && response.status !== 429;
      return { kind: 'rejected', permanent, throttled: response.status === 429, recipientRejected: permanent, description };
    } catch (error) {
      return {
        kind: 'rejected',
        permanent: false,
        throttled: false,
        recipientRejected: false,
        description: `the Viber endpoint could not be reached: ${String(error)}`.slice(0, 1000),
      };
    }
  }
}
