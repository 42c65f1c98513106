import { AppError } from '../errors';

/**
 * Why a customer's database or warehouse could not be used. One code per cause so the
 * "Check connection" button, browsing, lookups and exports all tell the user the same thing.
 * Messages are written here, never copied from a driver, so no credential can leak through.
 */
export const connectorErrorCodes = [
  'DNS_NOT_FOUND',
  'DESTINATION_NOT_ALLOWED',
  'CONNECTION_REFUSED',
  'CONNECTION_TIMEOUT',
  'HOST_UNREACHABLE',
  'AUTHENTICATION_FAILED',
  'DATABASE_NOT_FOUND',
  'SSL_REQUIRED',
  'SSL_NOT_SUPPORTED',
  'CERTIFICATE_REJECTED',
  'PERMISSION_DENIED',
  'READ_ONLY_DESTINATION',
  'QUERY_TIMEOUT',
  'CONNECTION_FAILED',
  'BIGQUERY_KEY_MALFORMED',
  'BIGQUERY_KEY_REVOKED',
  'BIGQUERY_PERMISSION_DENIED',
  'BIGQUERY_PROJECT_NOT_FOUND',
  'BIGQUERY_DATASET_NOT_FOUND',
  'BIGQUERY_QUERY_FAILED',
  'BIGQUERY_UNAVAILABLE',
] as const;
export type ConnectorErrorCode = (typeof connectorErrorCodes)[number];

export class ConnectorFailed extends AppError {
  constructor(
    readonly connectorCode: ConnectorErrorCode,
    message: string,
  ) {
    super('unprocessable', connectorCode, message);
  }
}

export class ConnectorNotFound extends AppError {
  constructor() {
    super('not_found', 'CONNECTOR_NOT_FOUND', 'connector not found');
  }
}

/** The catalog has no such schema/dataset, table or column (checked before any SQL uses it). */
export class CatalogObjectNotFound extends AppError {
  constructor(what: 'dataset' | 'table' | 'column', name: string, code?: string) {
    super('unprocessable', code ?? `${what.toUpperCase()}_NOT_FOUND`, `${what} ${JSON.stringify(name)} not found`);
  }
}
