import { closeConnectorPools } from '../../shared/connectors/postgres-pools';
import { lookupRows } from '../../shared/sources/lookup';
import { getSourceByName } from '../../shared/sources/sources';
import { exactKeys } from './contact-keys';
import { startBigQueryDouble, type BigQueryDouble, type ServiceAccountKeyFile } from '../support/bigquery-double';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

let double: BigQueryDouble;
let stack: TestStack;
let account: TestAccount;
let key: ServiceAccountKeyFile;

beforeAll(async () => {
  double = await startBigQueryDouble();
  key = double.keyFor('acme-marketing');
  double.addTable(
    'crm',
    'promo_codes',
    [
      { name: 'id', type: 'INTEGER' },
      { name: 'email', type: 'STRING' },
      { name: 'name', type: 'STRING' },
      { name: 'birthday', type: 'TIMESTAMP' },
      { name: 'promo_code', type: 'STRING' },
    ],
    [
      { id: 2, email: 'kozak@example.com', name: 'Dina Kozak', birthday: '2020-09-02T00:00:00Z', promo_code: 'AAAA-BBBB-DDDD' },
      { id: 5, email: 'other@example.com', name: null, birthday: null, promo_code: 'ZZZZ' },
    ],
  );
  double.addTable('crm', 'no_email', [{ name: 'phone', type: 'STRING' }]);
  stack = await startTestStack({ background: false, env: { BIGQUERY_API_ENDPOINT: double.url } });
  account = await stack.createAccount();
});
afterAll(async () => {
  await closeConnectorPools(stack.platform);
  await stack.stop();
  await double.stop();
});

const connector = (overrides: Record<string, unknown> = {}) => ({
  kind: 'bigquery',
  name: 'Warehouse',
  key: JSON.stringify(key),
  uniqueKey: { column: 'email', contactField: 'email' },
  ...overrides,
});

describe('check connection (BigQuery)', () => {
  it('authenticates with the key, reaches the project and its datasets, and runs a bounded test query', async () => {
    const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', { kind: 'bigquery', key: JSON.stringify(key) });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      ok: true,
      kind: 'bigquery',
      projectId: 'acme-marketing',
      clientEmail: key.client_email,
      latencyMs: expect.any(Number),
      datasets: 1,
      warnings: [],
    });
    const query = double.queries.at(-1)!;
    expect(query.sql).toBe('SELECT 1 AS ok');
    expect(Number(query.maximumBytesBilled)).toBeGreaterThan(0);
  });

  it.each([
    ['not JSON', '{nope'],
    ['no private key', JSON.stringify({ ...{ type: 'service_account', project_id: 'acme-marketing', client_email: 'a@b.iam.gserviceaccount.com' } })],
    ['a user credential instead of a service account', JSON.stringify({ type: 'authorized_user', client_id: 'x' })],
    [
      'a private key that cannot be read',
      JSON.stringify({
        type: 'service_account',
        project_id: 'acme-marketing',
        client_email: 'a@b.iam.gserviceaccount.com',
        private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      }),
    ],
  ])('answers BIGQUERY_KEY_MALFORMED for %s', async (_, malformed) => {
    const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', { kind: 'bigquery', key: malformed });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('BIGQUERY_KEY_MALFORMED');
    expect(response.text).not.toContain('PRIVATE KEY');
  });

  it('answers BIGQUERY_KEY_REVOKED for a deleted key', async () => {
    const revoked = double.keyFor('acme-marketing');
    double.revokeKey(revoked);
    const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', { kind: 'bigquery', key: revoked });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('BIGQUERY_KEY_REVOKED');
  });

  it('answers BIGQUERY_PERMISSION_DENIED when the account may not list datasets or run jobs', async () => {
    for (const permission of ['bigquery.datasets.list', 'bigquery.jobs.create']) {
      const limited = double.keyFor('acme-marketing');
      double.deny(limited.client_email, permission);
      const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', { kind: 'bigquery', key: limited });
      expect(response.body.error.code).toBe('BIGQUERY_PERMISSION_DENIED');
    }
  });

  it('answers BIGQUERY_PROJECT_NOT_FOUND for a key whose project does not exist', async () => {
    const stray = { ...double.keyFor('acme-marketing'), project_id: 'deleted-project' };
    const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', { kind: 'bigquery', key: stray });
    expect(response.body.error.code).toBe('BIGQUERY_PROJECT_NOT_FOUND');
  });
});

describe('BigQuery connector, browsing and sources', () => {
  let connectorId: number;

  it('saves the connector with the project taken from the key, never returning the key', async () => {
    const response = await stack.request(account, 'POST', '/api/v1/connectors', connector());
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      kind: 'bigquery',
      name: 'Warehouse',
      bigquery: { projectId: 'acme-marketing', clientEmail: key.client_email },
    });
    expect(response.text).not.toContain('PRIVATE KEY');
    connectorId = response.body.id;
    expect((await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}`)).text).not.toContain('PRIVATE KEY');
    expect((await stack.request(account, 'POST', `/api/v1/connectors/${connectorId}/validate`)).status).toBe(200);
  });

  it('lists datasets, tables and columns', async () => {
    expect((await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets`)).body).toEqual({ datasets: [{ name: 'crm' }] });
    const tables = await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets/crm/tables?limit=1`);
    expect(tables.body).toEqual({ tables: [{ name: 'no_email', type: 'TABLE' }], nextPageToken: expect.any(String) });
    const next = await stack.request(
      account,
      'GET',
      `/api/v1/connectors/${connectorId}/datasets/crm/tables?limit=1&pageToken=${tables.body.nextPageToken}`,
    );
    expect(next.body).toEqual({ tables: [{ name: 'promo_codes', type: 'TABLE' }] });
    const columns = await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets/crm/tables/promo_codes/columns`);
    expect(columns.body.columns).toEqual([
      { name: 'id', type: 'INTEGER', nullable: true },
      { name: 'email', type: 'STRING', nullable: true },
      { name: 'name', type: 'STRING', nullable: true },
      { name: 'birthday', type: 'TIMESTAMP', nullable: true },
      { name: 'promo_code', type: 'STRING', nullable: true },
    ]);
    expect((await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets/nope/tables`)).body.error.code).toBe('DATASET_NOT_FOUND');
  });

  it('checks the table and the key column on save, then looks rows up with UNNEST(@keys) and a byte limit', async () => {
    const noKey = await stack.request(account, 'POST', '/api/v1/datasources', { connectorId, dataset: 'crm', table: 'no_email', name: 'phones' });
    expect(noKey.body.error.code).toBe('UNIQUE_KEY_COLUMN_MISSING');
    const missing = await stack.request(account, 'POST', '/api/v1/datasources', { connectorId, dataset: 'crm', table: 'gone', name: 'gone' });
    expect(missing.body.error.code).toBe('TABLE_NOT_FOUND');

    const created = await stack.request(account, 'POST', '/api/v1/datasources', {
      connectorId,
      dataset: 'crm',
      table: 'promo_codes',
      name: 'promo_codes',
    });
    expect(created.status).toBe(201);
    const source = await getSourceByName(stack.platform.db, account.accountId, 'promo_codes');
    const rows = await lookupRows(stack.platform, source, exactKeys('kozak@example.com', 'nobody@example.com'));
    expect(rows.get('kozak@example.com')).toEqual([
      { id: '2', email: 'kozak@example.com', name: 'Dina Kozak', birthday: '2020-09-02T00:00:00Z', promo_code: 'AAAA-BBBB-DDDD' },
    ]);
    expect(rows.get('nobody@example.com')).toEqual([]);

    const query = double.queries.at(-1)!;
    expect(query.sql).toBe('SELECT * FROM `acme-marketing`.`crm`.`promo_codes` WHERE CAST(`email` AS STRING) IN UNNEST(@keys)');
    expect(query.params).toEqual({ keys: ['kozak@example.com', 'nobody@example.com'] });
    expect(Number(query.maximumBytesBilled)).toBeGreaterThan(0);
  });

  it('reports a key revoked after saving with the same code on lookups', async () => {
    const other = double.keyFor('acme-marketing');
    const saved = await stack.request(account, 'POST', '/api/v1/connectors', connector({ name: 'Soon revoked', key: other }));
    await stack.request(account, 'POST', '/api/v1/datasources', {
      connectorId: saved.body.id,
      dataset: 'crm',
      table: 'promo_codes',
      name: 'soon_revoked',
    });
    double.revokeKey(other);
    const source = await getSourceByName(stack.platform.db, account.accountId, 'soon_revoked');
    await expect(lookupRows(stack.platform, source, exactKeys('kozak@example.com'))).rejects.toMatchObject({ code: 'BIGQUERY_KEY_REVOKED' });
  });
});
