import type { BigQuery } from '@google-cloud/bigquery';
import { AppError } from '../errors';
import type { Platform } from '../platform';
import type { Connector } from './connector';
import { ConnectorFailed } from './errors';
import type { ServiceAccountKey } from './settings';

/* A BigQuery client signed with a connector's service-account key, and its failures as connector error codes. */

const BIGQUERY_SCOPE = 'https://www.googleapis.com/auth/bigquery';

export async function readServiceAccountKey(platform: Platform, connector: Connector): Promise<ServiceAccountKey> {
  return JSON.parse(await platform.secrets.get(connector.secretRef)) as ServiceAccountKey;
}

/** A BigQuery client for the connector's project, signed with its key from the secrets port. */
export async function bigQueryFor(platform: Platform, connector: Connector): Promise<BigQuery> {
  if (!connector.bigquery) throw new AppError('invalid', 'CONNECTOR_KIND_MISMATCH', 'this connector is not a BigQuery connector');
  return bigQueryClient(platform, await readServiceAccountKey(platform, connector), connector.bigquery.location);
}

/**
 * The package is imported here, on first use, not at module load: it costs about 60 ms of a
 * cold start, and most invocations of the functions that bundle it (the API above all) never
 * talk to BigQuery.
 */
export async function bigQueryClient(platform: Platform, key: ServiceAccountKey, location?: string): Promise<BigQuery> {
  const { BigQuery } = await import('@google-cloud/bigquery');
  const client = new BigQuery({
    projectId: key.project_id,
    credentials: { client_email: key.client_email, private_key: key.private_key },
    scopes: [BIGQUERY_SCOPE],
    // Node's own fetch: gaxios would otherwise load node-fetch through a dynamic import.
    clientOptions: { transporterOptions: { fetchImplementation: fetch } },
    ...(platform.config.bigQueryApiEndpoint ? { apiEndpoint: platform.config.bigQueryApiEndpoint } : {}),
    ...(location ? { location } : {}),
    maxRetries: 2,
  });
  // Self-signed JWT access (signed with the key on every request, as Google's client
  // libraries prefer for service accounts): no token exchange, and a deleted key is seen on
  // the first API call. It also lets the whole auth path run against BIGQUERY_API_ENDPOINT.
  client.authClient.useJWTAccessWithScope = true;
  return client;
}

interface GoogleApiError {
  code?: number | string;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  response?: { status?: number };
}

/** Maps a BigQuery API failure to a connector error code. */
export function bigQueryFailure(error: unknown, projectId: string): unknown {
  if (error instanceof AppError) return error;
  const { code, message = '', errors = [], response } = (error ?? {}) as GoogleApiError;
  const status = typeof code === 'number' ? code : response?.status;
  const reason = errors[0]?.reason ?? '';
  if (status === 401 || reason === 'authError' || /invalid_grant|invalid JWT|unauthenticated/i.test(message)) {
    return new ConnectorFailed('BIGQUERY_KEY_REVOKED', 'Google refused the service-account key (deleted, disabled or revoked)');
  }
  if (status === 403)
    return new ConnectorFailed('BIGQUERY_PERMISSION_DENIED', `the service account lacks a BigQuery permission on project ${projectId}`);
  if (status === 404 && /dataset/i.test(message) && !/project/i.test(message)) {
    return new ConnectorFailed('BIGQUERY_DATASET_NOT_FOUND', 'the dataset does not exist in this project');
  }
  if (status === 404 && /table/i.test(message)) return error;
  if (status === 404)
    return new ConnectorFailed('BIGQUERY_PROJECT_NOT_FOUND', `the project ${projectId} does not exist or is not visible to this key`);
  if (status === 400) return new ConnectorFailed('BIGQUERY_QUERY_FAILED', 'BigQuery rejected the query');
  if (typeof status === 'number' && status >= 500) return new ConnectorFailed('BIGQUERY_UNAVAILABLE', 'BigQuery is unavailable; try again later');
  if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|fetch failed/i.test(message))
    return new ConnectorFailed('BIGQUERY_UNAVAILABLE', 'BigQuery could not be reached');
  return error;
}
