/**
 * Tracing: on AWS every AWS SDK call and every platform-store statement is an X-Ray
 * subsegment of the invocation; locally nothing is traced and the X-Ray SDK is never loaded.
 * The AWS side runs in a process with a Lambda's environment, sending to a UDP listener that
 * stands where the X-Ray daemon would (its wire format: a JSON header line, then the document).
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import path from 'node:path';
import { promisify } from 'node:util';
import { noTracing } from '../../shared/ports/tracing';
import { createTestDatabase, startTestStack, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';

interface Subsegment {
  name: string;
  trace_id: string;
  error?: boolean;
  fault?: boolean;
  sql?: { sanitized_query?: string; database_type?: string };
  aws?: { operation?: string };
}

describe('on AWS', () => {
  let daemon: Socket;
  const received: Subsegment[] = [];
  const traceId = '1-67891233-abcdef012345678912345678';

  beforeAll(async () => {
    daemon = createSocket('udp4');
    daemon.on('message', (message) => {
      const [, body] = message.toString('utf8').split('\n');
      if (body) received.push(JSON.parse(body) as Subsegment);
    });
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    const database = await createTestDatabase('trace');
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', path.join(__dirname, '..', 'support', 'traced-lambda-process.ts')],
        {
          env: {
            PATH: process.env.PATH,
            AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
            AWS_LAMBDA_FUNCTION_NAME: 'satellite-test',
            LAMBDA_TASK_ROOT: __dirname,
            AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
            _X_AMZN_TRACE_ID: `Root=${traceId};Parent=53995c3f42cd8ad8;Sampled=1`,
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            TRACED_DATABASE_URL: database.url,
            TRACED_SQS_ENDPOINT: process.env.SATELLITE_TEST_SQS_ENDPOINT,
          },
        },
      );
      expect(stdout).toContain('done');
    } finally {
      await database.drop();
    }
    await waitUntil(async () => received.some((subsegment) => subsegment.name === 'SQS'), 'the SQS subsegment');
  });
  afterAll(() => daemon.close());

  it('records each database statement as a subsegment of the invocation, failures flagged', () => {
    const statements = received.filter((subsegment) => subsegment.name === '## postgres');
    expect(statements.map((subsegment) => subsegment.sql?.sanitized_query)).toEqual(
      expect.arrayContaining(['SELECT 1 AS traced_statement', 'SELECT * FROM no_such_table', 'SELECT 2 AS through_the_pool']),
    );
    for (const statement of statements) expect(statement.trace_id).toBe(traceId);
    const failed = statements.find((subsegment) => subsegment.sql?.sanitized_query === 'SELECT * FROM no_such_table');
    expect(Boolean(failed?.error ?? failed?.fault)).toBe(true);
    expect(statements.find((subsegment) => subsegment.sql?.sanitized_query === 'SELECT 1 AS traced_statement')?.error).toBeFalsy();
  });

  it('records AWS SDK calls with their operation', () => {
    expect(received.find((subsegment) => subsegment.name === 'SQS')).toMatchObject({ trace_id: traceId, aws: { operation: 'ListQueues' } });
  });
});

describe('locally', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.stop());

  it('traces nothing and never loads the X-Ray SDK (it would install an async hook)', async () => {
    expect((await stack.request(await stack.createAccount(), 'GET', '/api/v1/version')).status).toBe(200);
    expect(stack.platform.tracing).toBe(noTracing);
    expect((process as { namespaces?: Record<string, unknown> }).namespaces?.AWSXRay).toBeUndefined();
    expect(Object.keys(require.cache).filter((file) => file.includes('aws-xray-sdk-core'))).toEqual([]);
  });
});
