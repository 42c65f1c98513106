import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One SendEmail call as the double received it. */
export interface SesSendEmailCall {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: {
    FromEmailAddress?: string;
    Destination?: { ToAddresses?: string[] };
    Content?: { Raw?: { Data?: string } };
    EmailTags?: { Name: string; Value: string }[];
    ConfigurationSetName?: string;
  };
  /** The MIME message of Content.Raw.Data, decoded. */
  readonly mime: string;
  /** The MessageId it answered, or the error type. */
  readonly answer: string;
}

export interface SesDouble {
  readonly endpoint: string;
  readonly calls: SesSendEmailCall[];
  /** Answer the next `count` SendEmail calls with this SES error (`TooManyRequestsException` 429, `MessageRejected` 400, …). */
  failNext(count: number, error: { type: string; status: number; message: string }): void;
  close(): Promise<void>;
}

/**
 * Speaks the SES v2 API's SendEmail on the wire (REST-JSON: POST /v2/email/outbound-emails,
 * `{"MessageId"}` on success, errors named by `x-amzn-ErrorType`), so the real SDK client
 * talks to it as it would to SES. There is no local SES, hence a protocol double.
 */
export async function startSesDouble(): Promise<SesDouble> {
  const calls: SesSendEmailCall[] = [];
  let failures: { count: number; error: { type: string; status: number; message: string } } | undefined;
  let accepted = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = (text ? JSON.parse(text) : {}) as SesSendEmailCall['body'];
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      const mime = Buffer.from(body.Content?.Raw?.Data ?? '', 'base64').toString('utf8');
      if (request.method !== 'POST' || request.url !== '/v2/email/outbound-emails') {
        response
          .writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'NotFoundException' })
          .end(JSON.stringify({ message: 'no such operation' }));
        return;
      }
      if (failures && failures.count > 0) {
        failures.count -= 1;
        const { error } = failures;
        calls.push({ method: request.method, path: request.url, headers, body, mime, answer: error.type });
        response
          .writeHead(error.status, { 'content-type': 'application/json', 'x-amzn-errortype': error.type })
          .end(JSON.stringify({ message: error.message }));
        return;
      }
      accepted += 1;
      const messageId = `0100018c-double-${String(accepted).padStart(6, '0')}-000000`;
      calls.push({ method: request.method, path: request.url, headers, body, mime, answer: messageId });
      response
        .writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': `request-${accepted}` })
        .end(JSON.stringify({ MessageId: messageId }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    failNext: (count, error) => {
      failures = { count, error };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
