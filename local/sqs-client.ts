import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * An SQS client of the local runtime: the SQS server's endpoint, placeholder credentials.
 * Each command's middleware is resolved once (`cacheMiddleware`); the SDK keeps that cache
 * only for calls made without per-call options.
 */
export function localSqsClient(endpoint: string, settings: Pick<SQSClientConfig, 'maxAttempts'> = {}): SQSClient {
  return new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, cacheMiddleware: true, ...settings });
}
