import http from 'node:http';

/** A received message as SQS's JSON protocol returns it: the fields the local poller reads. */
export interface ReceivedMessage {
  readonly MessageId: string;
  readonly ReceiptHandle: string;
  readonly Body: string;
  readonly MD5OfBody?: string;
  readonly Attributes?: Readonly<Record<string, string>>;
}

export interface ReceiveRequest {
  readonly QueueUrl: string;
  readonly MaxNumberOfMessages: number;
  readonly WaitTimeSeconds: number;
  readonly MessageSystemAttributeNames: readonly string[];
}

export interface DeleteBatchRequest {
  readonly QueueUrl: string;
  readonly Entries: readonly { readonly Id: string; readonly ReceiptHandle: string }[];
}

/** What SQS answers a batch action: the entries it refused, by their Id. */
interface BatchAnswer {
  readonly Failed?: readonly { readonly Id: string; readonly Code?: string }[];
}

/**
 * The two SQS actions the local event source mapping calls, spoken in SQS's JSON protocol
 * (`X-Amz-Target`, `application/x-amz-json-1.0`) over one keep-alive agent. Per call the
 * SDK resolves an endpoint, runs its middleware, builds an identity, serialises through a
 * schema and parses the answer through it again: on the local path that cost as much CPU as
 * the delivery it fed. The local SQS server checks no signature, so none is made. The
 * deployed path (Lambda's own event source mapping, the platform's `SqsQueue`) keeps the SDK.
 */
export class SqsJsonClient {
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly url: URL;

  constructor(endpoint: string) {
    this.url = new URL(endpoint);
  }

  async receiveMessage(request: ReceiveRequest, signal?: AbortSignal): Promise<readonly ReceivedMessage[]> {
    const answer = (await this.call('ReceiveMessage', request, signal)) as { Messages?: unknown };
    if (answer.Messages === undefined) return [];
    if (!Array.isArray(answer.Messages)) throw new Error('SQS ReceiveMessage: Messages is not a list');
    // The server is this runtime's own; its messages are checked for the fields read, not re-validated whole.
    for (const message of answer.Messages as Partial<ReceivedMessage>[]) {
      if (typeof message.MessageId !== 'string' || typeof message.ReceiptHandle !== 'string' || typeof message.Body !== 'string')
        throw new Error('SQS ReceiveMessage: a message lacks its id, receipt handle or body');
    }
    return answer.Messages as ReceivedMessage[];
  }

  /** Deletes the entries; throws when SQS refused any, naming how many. */
  async deleteMessageBatch(request: DeleteBatchRequest): Promise<void> {
    const answer = (await this.call('DeleteMessageBatch', request)) as BatchAnswer;
    if (answer.Failed && answer.Failed.length > 0)
      throw new Error(`SQS DeleteMessageBatch refused ${answer.Failed.length} entries: ${answer.Failed[0]?.Code ?? 'unknown'}`);
  }

  destroy(): void {
    this.agent.destroy();
  }

  private call(action: string, input: object, signal?: AbortSignal): Promise<unknown> {
    const body = JSON.stringify(input);
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path: '/',
          method: 'POST',
          agent: this.agent,
          signal,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': `AmazonSQS.${action}`,
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? {} : JSON.parse(text);
            } catch {
              reject(new Error(`SQS ${action}: HTTP ${response.statusCode}, an answer that is not JSON`));
              return;
            }
            if (response.statusCode !== 200) {
              const error = parsed as { __type?: string; message?: string };
              reject(new Error(`SQS ${action}: HTTP ${response.statusCode} ${error.__type ?? ''} ${error.message ?? ''}`.trim()));
              return;
            }
            resolve(parsed);
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}
