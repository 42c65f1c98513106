import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

type AuthSchemes = NonNullable<SQSClientConfig['httpAuthSchemes']>;

/**
 * The local SQS server checks no signature, so the local runtime's clients send requests
 * unsigned (SigV4 is a few HMACs and hashes per call, on every receive, delete and send of
 * every queue). The credentials stay placeholders for the SDK's identity step.
 */
const unsigned: AuthSchemes = [
  {
    schemeId: 'aws.auth#sigv4',
    identityProvider: (config) => config.getIdentityProvider('aws.auth#sigv4'),
    signer: { sign: (request) => Promise.resolve(request) },
  },
];

/**
 * An SQS client of the local runtime (the AWS SDK's own, so it lives with the AWS adapters):
 * the SQS server's endpoint, placeholder credentials.
 * Each command's middleware is resolved once (`cacheMiddleware`); the SDK keeps that cache
 * only for calls made without per-call options. Bodies are not MD5-checked: they cross the
 * loopback from a server of this runtime, where TCP's own checksums already hold.
 */
export function localSqsClient(endpoint: string, settings: Pick<SQSClientConfig, 'maxAttempts'> = {}): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    cacheMiddleware: true,
    httpAuthSchemes: unsigned,
    md5: false,
    ...settings,
  });
}
