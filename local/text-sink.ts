import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The local stack's SMS and Viber sink. For SMS it speaks AWS End User Messaging SMS's wire
 * format (JSON 1.0, `X-Amz-Target: PinpointSMSVoiceV2.SendTextMessage`), so the stack's own
 * SDK adapter is what sends locally too; Viber arrives as JSON on `/viber`. A destination
 * starting +999 is refused as AWS refuses an invalid number (ValidationException, HTTP 400):
 * how a test makes a send fail for good. `failNext(n)` makes the next n sends fail for now
 * (AWS's InternalServerException, HTTP 500; 503 on /viber), as a provider having a bad
 * minute: how a test sees a send retried. GET /messages lists what was caught.
 */
export interface CaughtText {
  readonly mediaType: 'SMS' | 'Viber';
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly context?: Readonly<Record<string, string>>;
  readonly messageId: string;
  readonly receivedAt: string;
}

export interface RunningTextSink {
  readonly url: string;
  readonly messages: CaughtText[];
  /** The next `count` sends (SMS or Viber) fail with a temporary error; then the sink takes them again. */
  failNext(count: number): void;
  stop(): Promise<void>;
}

const KEPT = 1000;

export async function startTextSink(port = 0): Promise<RunningTextSink> {
  const messages: CaughtText[] = [];
  let failures = 0;
  const keep = (text: CaughtText) => {
    messages.push(text);
    if (messages.length > KEPT) messages.shift();
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(body));
      };
      if (request.method === 'GET' && request.url?.startsWith('/messages')) return answer(200, { messages });
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return answer(400, { __type: 'SerializationException', message: 'not JSON' });
      }
      const target = String(request.headers['x-amz-target'] ?? '');
      const isSms = request.method === 'POST' && target === 'PinpointSMSVoiceV2.SendTextMessage';
      if ((isSms || (request.method === 'POST' && request.url === '/viber')) && failures > 0) {
        failures -= 1;
        return isSms
          ? answer(
              500,
              { __type: 'InternalServerException', message: 'the service is unavailable for now' },
              { 'x-amzn-errortype': 'InternalServerException' },
            )
          : answer(503, { message: 'the service is unavailable for now' });
      }
      if (isSms) {
        const to = String(body.DestinationPhoneNumber ?? '');
        if (to.startsWith('+999')) {
          return answer(
            400,
            { __type: 'ValidationException', message: `${to} is not a valid destination`, Reason: 'INVALID_PARAMETER' },
            { 'x-amzn-errortype': 'ValidationException' },
          );
        }
        const messageId = randomUUID();
        keep({
          mediaType: 'SMS',
          from: String(body.OriginationIdentity ?? ''),
          to,
          text: String(body.MessageBody ?? ''),
          context: body.Context as Record<string, string> | undefined,
          messageId,
          receivedAt: new Date().toISOString(),
        });
        return answer(200, { MessageId: messageId });
      }
      if (request.method === 'POST' && request.url === '/viber') {
        const to = String(body.to ?? '');
        if (to.startsWith('999')) return answer(400, { message: `${to} is not a Viber user` });
        const messageId = randomUUID();
        keep({
          mediaType: 'Viber',
          from: String(body.from ?? ''),
          to,
          text: String(body.text ?? ''),
          messageId,
          receivedAt: new Date().toISOString(),
        });
        return answer(200, { messageId });
      }
      return answer(404, { __type: 'UnknownOperationException', message: `unknown operation ${target || request.url}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    messages,
    failNext: (count) => {
      failures = count;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
