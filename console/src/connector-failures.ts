/**
 * "Check connection" failures in the words of the person at the screen: what went wrong and
 * what to ask or change. One per code of shared/connectors/errors.ts (a test checks none is missing).
 */
export const connectorFailureText: Readonly<Record<string, string>> = {
  DNS_NOT_FOUND: 'We could not find a server with this host name. Check the host for typing mistakes.',
  DESTINATION_NOT_ALLOWED: 'This host is on a private network that Satellite may not reach. Use the database’s public address.',
  CONNECTION_REFUSED: 'The server refused the connection on this port. Check the port, and that the database accepts connections from outside.',
  CONNECTION_TIMEOUT: 'The server did not answer in time. A firewall may be blocking Satellite; ask your administrator to allow it.',
  HOST_UNREACHABLE: 'The server cannot be reached from the internet. Check the host, or ask your administrator.',
  AUTHENTICATION_FAILED: 'The user name or password is wrong.',
  DATABASE_NOT_FOUND: 'There is no database with this name on the server. Check the database name.',
  SSL_REQUIRED: 'The server only accepts secure (SSL) connections. Choose the SSL mode “require”.',
  SSL_NOT_SUPPORTED: 'The server does not support secure (SSL) connections. Ask your administrator to enable SSL, or choose the SSL mode “prefer”.',
  CERTIFICATE_REJECTED: 'The server’s SSL certificate could not be verified. Check the CA certificate, or ask your administrator.',
  PERMISSION_DENIED: 'This user may not read the data. Ask your administrator to grant it read access.',
  READ_ONLY_DESTINATION: 'This user may only read. Exports need a user that can create tables and write.',
  QUERY_TIMEOUT: 'The database took too long to answer the test query. Try again later.',
  CONNECTION_FAILED: 'The connection failed. Check the settings with your administrator.',
  BIGQUERY_KEY_MALFORMED: 'This is not a valid service-account key file. Download the JSON key again from Google Cloud.',
  BIGQUERY_KEY_REVOKED: 'Google no longer accepts this key: it was deleted or disabled. Create a new key.',
  BIGQUERY_PERMISSION_DENIED: 'The service account lacks BigQuery permissions. Grant it the BigQuery Data Viewer and Job User roles.',
  BIGQUERY_PROJECT_NOT_FOUND: 'Google Cloud has no project with this id, or the key cannot see it.',
  BIGQUERY_DATASET_NOT_FOUND: 'The dataset does not exist in this project.',
  BIGQUERY_QUERY_FAILED: 'BigQuery refused the test query.',
  BIGQUERY_UNAVAILABLE: 'BigQuery is not answering right now. Try again in a few minutes.',
};
