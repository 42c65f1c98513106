import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { startServiceProcess } from './service-process';

/** One message as the sink received it. */
export interface CaughtEmail {
  readonly id: number;
  readonly receivedAt: string;
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly messageId: string | null;
  readonly from: string | null;
  readonly to: string | null;
  readonly replyTo: string | null;
  readonly subject: string | null;
  /** Every header as received, lower-case names (the last value of a repeated one). */
  readonly headers: Readonly<Record<string, string>>;
  readonly html: string | null;
  readonly text: string | null;
}

/** An SMTP answer the sink gives a recipient instead of accepting it. */
export interface SinkRejection {
  readonly code: number;
  readonly message: string;
}

/**
 * Recipients whose local part starts with these words are refused, so a developer can see a
 * bounce locally: `bounce…@` → 550 (a hard bounce), `tempfail…@` → 451 (retried, then a soft
 * bounce), `throttle…@` → 454 (the provider asks to slow down).
 */
export function defaultRejection(address: string): SinkRejection | undefined {
  const local = address.toLowerCase().split('@')[0] ?? '';
  if (local.startsWith('bounce')) return { code: 550, message: '5.1.1 <' + address + '>: user unknown' };
  if (local.startsWith('tempfail')) return { code: 451, message: '4.3.0 mailbox temporarily unavailable' };
  if (local.startsWith('throttle')) return { code: 454, message: '4.7.0 too many messages, slow down' };
  return undefined;
}

export interface SmtpSinkOptions {
  readonly smtpPort?: number;
  readonly httpPort?: number;
  /** How a recipient is refused; `defaultRejection` unless given. */
  readonly reject?: (address: string) => SinkRejection | undefined;
  /** Messages kept in full (the newest); older ones are only counted. */
  readonly keep?: number;
  /** Skip parsing (count only): what the bench's sink does, so parsing never competes with the stack. */
  readonly countOnly?: boolean;
}

export interface RunningSmtpSink {
  readonly smtpPort: number;
  /** The mailbox over HTTP: GET /messages, DELETE /messages. */
  readonly mailboxUrl: string;
  /** In-process sinks only: the messages themselves. */
  readonly messages: CaughtEmail[];
  /** In-process sinks only: the recipients of every message received, in order (kept even when counting only). */
  readonly recipients: string[];
  received(): number;
  stop(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1 that accepts every message (but those `reject` refuses) and keeps it, parsed. */
export async function startSmtpSinkServer(options: SmtpSinkOptions = {}): Promise<RunningSmtpSink> {
  const messages: CaughtEmail[] = [];
  const recipients: string[] = [];
  const keep = options.keep ?? 2000;
  const reject = options.reject ?? defaultRejection;
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // Lets nodemailer authenticate if a relay with a user name is pointed here.
    onAuth: (_auth, _session, callback) => callback(null, { user: 'local' }),
    onRcptTo: (address: SMTPServerAddress, _session, callback) => {
      const refusal = reject(address.address);
      if (!refusal) return callback();
      const error = new Error(refusal.message) as Error & { responseCode: number };
      error.responseCode = refusal.code;
      return callback(error);
    },
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      // Read now: the session's envelope is reset once the message is answered.
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
      };
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received += 1;
        const id = received;
        recipients.push(...envelope.to);
        callback();
        if (options.countOnly) return;
        const raw = Buffer.concat(chunks);
        void simpleParser(raw).then((parsed) => {
          const headers: Record<string, string> = {};
          for (const line of parsed.headerLines)
            headers[line.key] = line.line
              .slice(line.line.indexOf(':') + 1)
              .replace(/\r?\n[ \t]+/g, ' ')
              .trim();
          messages.push({
            id,
            receivedAt: new Date().toISOString(),
            envelope,
            messageId: parsed.messageId ?? null,
            from: parsed.from?.text ?? null,
            to: addressText(parsed.to),
            replyTo: parsed.replyTo?.text ?? null,
            subject: parsed.subject ?? null,
            headers,
            html: typeof parsed.html === 'string' ? parsed.html : null,
            text: parsed.text ?? null,
          });
          if (messages.length > keep) messages.splice(0, messages.length - keep);
        });
      });
    },
    logger: false,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.smtpPort ?? 0, '127.0.0.1', () => resolve());
  });
  const smtpPort = (server.server.address() as AddressInfo).port;
  const http = await startMailboxHttp(messages, () => received, options.httpPort ?? 0);
  return {
    smtpPort,
    mailboxUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    messages,
    recipients,
    received: () => received,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function addressText(value: AddressObject | AddressObject[] | undefined): string | null {
  if (!value) return null;
  return Array.isArray(value) ? value.map((entry) => entry.text).join(', ') : value.text;
}

/** The sink's own mailbox API, which the local-only route GET /local/mailbox reads. */
async function startMailboxHttp(messages: CaughtEmail[], received: () => number, port: number): Promise<HttpServer> {
  const server = createHttpServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://sink');
    if (url.pathname === '/messages' && request.method === 'GET') {
      const to = url.searchParams.get('to')?.toLowerCase();
      const list = messages.filter((message) => !to || message.envelope.to.some((address) => address.toLowerCase() === to));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ received: received(), messages: list.slice().reverse() }));
      return;
    }
    if (url.pathname === '/messages' && request.method === 'DELETE') {
      messages.splice(0, messages.length);
      response.writeHead(204).end();
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return server;
}

export interface SmtpSinkProcess {
  readonly pid: number | undefined;
  readonly smtpUrl: string;
  readonly mailboxUrl: string;
  stop(): Promise<void>;
}

/**
 * The sink in its own process, as `npm start` runs it (like the SQS server): receiving and
 * parsing mail never competes with the stack's event loop. It stops when we close its stdin.
 */
export async function startSmtpSink(options: { smtpPort?: number; countOnly?: boolean } = {}): Promise<SmtpSinkProcess> {
  const service = await startServiceProcess(path.join(__dirname, 'smtp-sink-process.ts'), [
    String(options.smtpPort ?? 0),
    options.countOnly ? 'count-only' : 'parse',
  ]);
  const { smtpPort, mailboxUrl } = JSON.parse(service.readyLine) as { smtpPort: number; mailboxUrl: string };
  return { pid: service.pid, smtpUrl: `smtp://127.0.0.1:${smtpPort}`, mailboxUrl, stop: () => service.stop() };
}
