/**
 * Every deployed handler puts its invocation's Lambda context (function name, request id, cold
 * start) into each log line written while it runs, so a line found in Logs Insights leads to
 * its invocation and its X-Ray trace. Each handler is invoked here without its environment:
 * it fails at once (no configuration), and a line logged then must carry that invocation's id.
 */
import type { Context } from 'aws-lambda';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { logger } from '../../shared/logger';

const FUNCTIONS = path.join(__dirname, '..', '..', 'functions');
const handlerDirs = readdirSync(FUNCTIONS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

function lambdaContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'satellite-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:satellite-test',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/satellite-test',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

it('finds every function', () => {
  expect(handlerDirs.length).toBeGreaterThanOrEqual(15);
});

it.each(handlerDirs)('%s logs with its invocation’s Lambda context', async (dir) => {
  const { handler } = (await import(path.join(FUNCTIONS, dir, 'handler'))) as {
    handler: (event: unknown, context: Context) => Promise<unknown>;
  };
  const requestId = `request-of-${dir}`;
  const written: string[] = [];
  // Errors go to stderr, the rest to stdout.
  const writes = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }),
  );
  try {
    await Promise.resolve(handler({ Records: [] }, lambdaContext(requestId))).catch(() => undefined);
    logger.error('probe');
  } finally {
    for (const write of writes) write.mockRestore();
  }
  const probe = written.map((line) => line.trim()).find((line) => line.includes('"probe"'));
  expect(JSON.parse(probe ?? '{}')).toMatchObject({ function_request_id: requestId, function_name: 'satellite-test' });
});
