import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

const ignored = (): undefined => undefined;

/** A Lambda context for locally invoked handlers, with the deployed function's time budget. */
export function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    // Shared, not made per call: the API builds a context for every request.
    done: ignored,
    fail: ignored,
    succeed: ignored,
  };
}
