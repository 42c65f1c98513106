import { getConnector, type Connector } from '../../shared/connectors/connector';
import { addOrUpdateContact, deleteContact } from '../../shared/contacts/save-contact';
import { exportToBigQuery, stagingTableName } from '../../shared/exports/bigquery-writer';
import { datasetNames, datasets, type DatasetName } from '../../shared/exports/datasets';
import type { WriterStep } from '../../shared/exports/export-pass';
import { startBigQueryDouble, type BigQueryDouble, type BigQueryRow, type ServiceAccountKeyFile } from '../support/bigquery-double';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { eventually, platformSettled, saveBigQueryConnector } from './connectors';
import { insertActivity, insertContact, insertOneOfEach } from './platform-rows';

const PROJECT = 'shop-analytics';

let double: BigQueryDouble;
let stack: TestStack;
let account: TestAccount;
let key: ServiceAccountKeyFile;
let connectorId: number;
let connector: Connector;
let warehouses = 0;

beforeAll(async () => {
  double = await startBigQueryDouble();
  key = double.keyFor(PROJECT);
  stack = await startTestStack({ env: { BIGQUERY_API_ENDPOINT: double.url, EXPORT_RETRY_BASE_SECONDS: '0', EXPORT_MAX_ATTEMPTS: '1' } });
  account = await stack.createAccount();
  connectorId = await saveBigQueryConnector(stack.platform, account.accountId, { ...key });
  connector = await getConnector(stack.platform.db, account.accountId, connectorId);
});
afterAll(async () => {
  await stack?.stop();
  await double?.stop();
});

/** A fresh, empty BigQuery dataset in the project. */
function newWarehouse(): string {
  const warehouse = `warehouse_${++warehouses}`;
  double.addDataset(warehouse, { projectId: PROJECT });
  return warehouse;
}

/** A fresh BigQuery dataset and a paused export into it (the writer is driven by the test, not the schedule). */
async function newExport(tenant: TestAccount = account, tenantConnectorId = connectorId): Promise<{ exportId: number; warehouse: string }> {
  const warehouse = newWarehouse();
  const created = await stack.request(tenant, 'POST', '/api/v1/exports', {
    connectorId: tenantConnectorId,
    datasets: [...datasetNames],
    dataset: warehouse,
    paused: true,
  });
  expect(created.status).toBe(201);
  return { exportId: created.body.id as number, warehouse };
}

/** An account of its own, with a connector to the project and a paused export into a fresh dataset. */
async function tenantExport(): Promise<{ tenant: TestAccount; connection: Connector; target: { exportId: number; warehouse: string } }> {
  const tenant = await stack.createAccount();
  const tenantConnector = await saveBigQueryConnector(stack.platform, tenant.accountId, { ...key });
  const connection = await getConnector(stack.platform.db, tenant.accountId, tenantConnector);
  return { tenant, connection, target: await newExport(tenant, tenantConnector) };
}

async function exportOnce(
  target: { exportId: number; warehouse: string },
  dataset: DatasetName,
  options: {
    chunkRows?: number;
    onStep?: (step: WriterStep) => Promise<void>;
    accountId?: number;
    hasTimeLeft?: () => boolean;
    connector?: Connector;
    settle?: boolean;
  } = {},
) {
  // Other test files' open transactions hold the pass bound back; wait them out unless the test holds one itself.
  if (options.settle !== false) await platformSettled(stack.platform);
  return exportToBigQuery(stack.platform, options.connector ?? connector, {
    schema: target.warehouse,
    dataset: datasets[dataset],
    exportId: target.exportId,
    accountId: options.accountId ?? account.accountId,
    chunkRows: options.chunkRows ?? 1000,
    hasTimeLeft: options.hasTimeLeft ?? (() => true),
    onStep: options.onStep,
  });
}

function tableRows(warehouse: string, table: string): BigQueryRow[] {
  return structuredClone(double.rows(warehouse, table, PROJECT));
}

const uploads = () => double.requests.filter((request) => request.method === 'POST' && /^\/upload\/projects\/[^/]+\/jobs$/.test(request.path)).length;
const merges = () => double.queries.filter((query) => query.sql.startsWith('MERGE ')).length;

class Crash extends Error {}

describe('BigQuery tables', () => {
  let target: { exportId: number; warehouse: string };
  let ids: Awaited<ReturnType<typeof insertOneOfEach>>;

  beforeAll(async () => {
    target = await newExport();
    ids = await insertOneOfEach(stack.platform.db, account.accountId, 'bq');
    for (const dataset of datasetNames) await exportOnce(target, dataset);
  });

  it('creates each table named after its dataset with every documented column and BigQuery type', () => {
    const dataset = double.datasets.get(`${PROJECT}.${target.warehouse}`)!;
    // staging tables are gone once their rows are merged
    expect([...dataset.tables.keys()].sort()).toEqual([...datasetNames].sort());
    const typeOf = (table: string, column: string) =>
      double.table(target.warehouse, table, PROJECT)?.schema.find((field) => field.name === column)?.type;
    // seed 003's types
    expect(typeOf('broadcasts', 'createdDate')).toBe('TIMESTAMP');
    expect(typeOf('broadcasts', 'groupId')).toBe('INT64');
    expect(typeOf('contactActivities', 'activity')).toBe('STRING');
    expect(typeOf('contactActivities', 'started')).toBe('TIMESTAMP');
    expect(typeOf('contactActivities', 'activityDateTime')).toBe('TIMESTAMP');
    expect(typeOf('contactActivities', 'workflowId')).toBe('STRING');
    expect(typeOf('contactActivities', 'workflowInstanceId')).toBe('STRING');
    expect(typeOf('contacts', 'totalClicked')).toBe('INT64');
    expect(typeOf('devices', 'applicationId')).toBe('INT64');
    expect(typeOf('messages', 'updateDate')).toBe('TIMESTAMP');
    expect(typeOf('orderItems', 'cost')).toBe('FLOAT64');
    expect(typeOf('orders', 'discount')).toBe('FLOAT64');
    expect(typeOf('revenue', 'workflowId')).toBe('INT64');
    expect(typeOf('revenue', 'totalCost')).toBe('FLOAT64');
    for (const name of datasetNames) {
      for (const column of datasets[name].columns)
        expect([name, column.name, typeOf(name, column.name)]).toEqual([name, column.name, column.bigQueryType]);
      expect(typeOf(name, 'satelliteVersion')).toBe('INT64');
    }
  });

  it('writes one row per platform row, values typed, deprecated names beside their replacements', () => {
    for (const name of datasetNames) expect([name, tableRows(target.warehouse, name)]).toEqual([name, [expect.any(Object)]]);
    const [activity] = tableRows(target.warehouse, 'contactActivities');
    expect(activity).toMatchObject({
      activityId: Number(ids.activityId),
      activity: 'CLICKED',
      activityStatus: 'CLICKED',
      errorCode: '550 mailbox full',
      statusDescription: '550 mailbox full',
      started: '2021-10-08T11:11:02.000Z',
      activityDateTime: '2021-10-08T11:11:02.000Z',
      workflowId: '12',
      workflowInstanceId: 'wi-9',
      externalCustomerId: 'ext-1',
      messageURL: 'https://example.com/web',
      messageId: Number(ids.messageId),
    });
    expect(tableRows(target.warehouse, 'contacts')[0]).toMatchObject({
      contactId: Number(ids.contactId),
      externalCustomerId: 'ext-bq',
      email: 'dina.bq@example.com',
      emailDomain: 'example.com',
      sms: '380501234567',
      totalSent: 3,
      // whole seconds, UTC
      lastSentDate: '2021-10-08T11:11:02.000Z',
    });
    expect(tableRows(target.warehouse, 'revenue')[0]).toMatchObject({
      orderId: Number(ids.orderId),
      activity: 'CLICKED',
      totalCost: 120.5,
      currency: 'UAH',
      workflowId: 12,
    });
    expect(tableRows(target.warehouse, 'orderItems')[0]).toMatchObject({
      orderId: Number(ids.orderId),
      externalProductId: 'sku-1',
      quantity: 2,
      cost: 60.25,
    });
    expect(tableRows(target.warehouse, 'devices')[0]!.pushToken).toHaveLength(600);
  });

  it('changes nothing and starts no job when run again', async () => {
    const before = datasetNames.map((name) => tableRows(target.warehouse, name));
    const jobs = [uploads(), merges()];
    for (const dataset of datasetNames) expect(await exportOnce(target, dataset)).toEqual({ rowsWritten: 0, complete: true });
    expect(datasetNames.map((name) => tableRows(target.warehouse, name))).toEqual(before);
    expect([uploads(), merges()]).toEqual(jobs);
  });

  it('updates exactly the changed row', async () => {
    const other = await insertContact(stack.platform.db, account.accountId, { externalCustomerId: 'ext-other', email: 'other@example.com' });
    await exportOnce(target, 'contacts');
    const before = tableRows(target.warehouse, 'contacts');
    expect(before).toHaveLength(2);

    await stack.platform.db.query(`UPDATE contacts SET first_name = 'Olena' WHERE id = $1`, [other]);
    expect(await exportOnce(target, 'contacts')).toEqual({ rowsWritten: 1, complete: true });
    const after = tableRows(target.warehouse, 'contacts');
    expect(after).toHaveLength(2);
    const changed = after.find((row) => row.contactId === Number(other))!;
    const previous = before.find((row) => row.contactId === Number(other))!;
    expect(changed).toMatchObject({ firstName: 'Olena', email: 'other@example.com' });
    expect(Number(changed.satelliteVersion)).toBeGreaterThan(Number(previous.satelliteVersion));
    expect(after.filter((row) => row.contactId !== Number(other))).toEqual(before.filter((row) => row.contactId !== Number(other)));
  });

  it('marks a deleted contact with its deletion time, and a restored one as live again', async () => {
    const gone = await insertContact(stack.platform.db, account.accountId, { externalCustomerId: 'ext-gone', email: 'gone@example.com' });
    await exportOnce(target, 'contacts');
    const exported = () => tableRows(target.warehouse, 'contacts').find((row) => row.contactId === Number(gone));
    expect(exported()).toMatchObject({ satelliteDeletedAt: null });

    await deleteContact(stack.platform.db, account.accountId, gone);
    await exportOnce(target, 'contacts');
    const { rows } = await stack.platform.db.query<{ at: string }>(
      `SELECT to_char(deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.000"Z"') AS at FROM contacts WHERE id = $1`,
      [gone],
    );
    expect(exported()).toMatchObject({ satelliteDeletedAt: rows[0]!.at });

    await addOrUpdateContact(stack.platform.db, account.accountId, { externalCustomerId: 'ext-gone', firstName: 'Back' });
    await exportOnce(target, 'contacts');
    expect(exported()).toMatchObject({ satelliteDeletedAt: null, firstName: 'Back' });
  });

  it("updates revenue when the order's total changes", async () => {
    await stack.platform.db.query('UPDATE orders SET total_cost = 99.99 WHERE id = $1', [ids.orderId]);
    await exportOnce(target, 'revenue');
    expect(tableRows(target.warehouse, 'revenue')).toEqual([expect.objectContaining({ orderId: Number(ids.orderId), totalCost: 99.99 })]);
  });

  it('adds a column missing from an existing table and keeps the columns it has', async () => {
    const table = double.table(target.warehouse, 'messages', PROJECT)!;
    table.schema = table.schema.filter((field) => field.name !== 'subject').concat({ name: 'customerNote', type: 'STRING', mode: 'NULLABLE' });
    await stack.platform.db.query(`UPDATE messages SET name = 'Welcome back' WHERE id = $1`, [ids.messageId]);
    await exportOnce(target, 'messages');
    const names = table.schema.map((field) => field.name);
    expect(names).toEqual(expect.arrayContaining(['customerNote', 'subject']));
    expect(tableRows(target.warehouse, 'messages')[0]).toMatchObject({ name: 'Welcome back', subject: 'Hello' });
  });
});

describe('change tracking', () => {
  it('exports a row whose transaction commits late, with an older time, on a later run', async () => {
    const { tenant, connection, target } = await tenantExport();
    const contactId = await insertContact(stack.platform.db, tenant.accountId);
    const first = Number(await insertActivity(stack.platform.db, tenant.accountId, { contactId, occurredAt: '2024-01-01 10:00:00+00' }));
    const options = { accountId: tenant.accountId, connector: connection };

    const late = await stack.platform.db.connect();
    try {
      await late.query('BEGIN');
      const lateId = Number(await insertActivity(late, tenant.accountId, { contactId, occurredAt: '2023-01-01 10:00:00+00' }));
      const onTime = Number(await insertActivity(stack.platform.db, tenant.accountId, { contactId, occurredAt: '2024-02-01 10:00:00+00' }));
      await exportOnce(target, 'contactActivities', { ...options, settle: false });
      expect(tableRows(target.warehouse, 'contactActivities').map((row) => row.activityId)).not.toContain(lateId);
      await late.query('COMMIT');

      await exportOnce(target, 'contactActivities', options);
      const ids = tableRows(target.warehouse, 'contactActivities').map((row) => row.activityId);
      expect(ids.sort((a, b) => Number(a) - Number(b))).toEqual([first, lateId, onTime].sort((a, b) => a - b));
    } finally {
      late.release();
    }
  });
});

describe('a crash between the steps of a pass', () => {
  // 7 rows in chunks of 3: three load jobs (3, 3, 1 rows), then one MERGE.
  it.each<[string, WriterStep, number]>([
    ['between a load job and its record (mid-staging)', 'staged', 2],
    ['between the last load job and the MERGE', 'staged', 3],
    ['between the MERGE and the cursor', 'upserted', 1],
  ])('leaves no duplicate and no gap when the worker dies %s', async (_when, crashAt, occurrence) => {
    const { tenant, connection, target } = await tenantExport();
    const contactId = await insertContact(stack.platform.db, tenant.accountId);
    const expected: number[] = [];
    for (let index = 0; index < 7; index += 1) expected.push(Number(await insertActivity(stack.platform.db, tenant.accountId, { contactId })));
    const jobs = [uploads(), merges()];

    let seen = 0;
    const crash = async (step: WriterStep) => {
      if (step === crashAt && ++seen === occurrence) throw new Crash(`crashed after ${step}`);
    };
    const options = { chunkRows: 3, accountId: tenant.accountId, connector: connection };
    await expect(exportOnce(target, 'contactActivities', { ...options, onStep: crash })).rejects.toThrow(Crash);

    const progress = await exportOnce(target, 'contactActivities', options);
    expect(progress).toEqual({ rowsWritten: 7, complete: true });
    const rows = tableRows(target.warehouse, 'contactActivities');
    expect(rows.map((row) => row.activityId).sort((a, b) => Number(a) - Number(b))).toEqual(expected);
    // the retry found the jobs of the crashed attempt: each chunk loaded once, one MERGE
    expect([uploads() - jobs[0]!, merges() - jobs[1]!]).toEqual([3, 1]);
    expect(
      double.table(target.warehouse, stagingTableName({ exportId: target.exportId, dataset: datasets.contactActivities }), PROJECT),
    ).toBeUndefined();
  });

  it.each([
    ['with chunks left to load', 1],
    ['with only the MERGE left', 2],
  ])('finishes a pass an older version staged without a column added since, %s', async (_when, occurrence) => {
    const { tenant, connection, target } = await tenantExport();
    for (let index = 0; index < 4; index += 1) await insertContact(stack.platform.db, tenant.accountId);
    let seen = 0;
    const crash = async (step: WriterStep) => {
      if (step === 'staged' && ++seen === occurrence) throw new Crash('crashed after staged');
    };
    const options = { chunkRows: 2, accountId: tenant.accountId, connector: connection };
    await expect(exportOnce(target, 'contacts', { ...options, onStep: crash })).rejects.toThrow(Crash);
    // As the version before satelliteDeletedAt staged it.
    const staging = double.table(target.warehouse, stagingTableName({ exportId: target.exportId, dataset: datasets.contacts }), PROJECT)!;
    staging.schema = staging.schema.filter((field) => field.name !== 'satelliteDeletedAt');
    for (const row of staging.rows) delete row.satelliteDeletedAt;

    expect(await exportOnce(target, 'contacts', options)).toEqual({ rowsWritten: 4, complete: true });
    const rows = tableRows(target.warehouse, 'contacts');
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatchObject({ satelliteDeletedAt: null });
  });

  it('drops the staging table of an unfinished pass when its export is deleted', async () => {
    const { tenant, connection, target } = await tenantExport();
    for (let index = 0; index < 3; index += 1) await insertContact(stack.platform.db, tenant.accountId);
    const options = { chunkRows: 2, accountId: tenant.accountId, connector: connection, hasTimeLeft: () => false };
    expect(await exportOnce(target, 'contacts', options)).toEqual({ rowsWritten: 0, complete: false });
    const staging = stagingTableName({ exportId: target.exportId, dataset: datasets.contacts });
    expect(double.table(target.warehouse, staging, PROJECT)).toBeDefined();

    expect((await stack.request(tenant, 'DELETE', `/api/v1/exports/${target.exportId}`)).status).toBe(204);
    expect(double.table(target.warehouse, staging, PROJECT)).toBeUndefined();
    expect(double.table(target.warehouse, 'contacts', PROJECT)).toBeDefined();
  });

  it('exports every row into the dataset an export is pointed at after a finished pass elsewhere', async () => {
    const { tenant, connection, target: first } = await tenantExport();
    for (let index = 0; index < 4; index += 1) await insertContact(stack.platform.db, tenant.accountId);
    const options = { chunkRows: 2, accountId: tenant.accountId, connector: connection };
    expect(await exportOnce(first, 'contacts', options)).toEqual({ rowsWritten: 4, complete: true });

    const warehouse = newWarehouse();
    expect((await stack.request(tenant, 'PUT', `/api/v1/exports/${first.exportId}`, { dataset: warehouse })).status).toBe(200);
    // The same rows in the same chunks: the first dataset's jobs for them must not pass for this pass's.
    expect(await exportOnce({ exportId: first.exportId, warehouse }, 'contacts', options)).toEqual({ rowsWritten: 4, complete: true });
    expect(tableRows(warehouse, 'contacts')).toHaveLength(4);
  });

  it('drops the staging table of a pass left unfinished in a dataset the export no longer points at', async () => {
    const { tenant, connection, target: first } = await tenantExport();
    for (let index = 0; index < 3; index += 1) await insertContact(stack.platform.db, tenant.accountId);
    const options = { chunkRows: 2, accountId: tenant.accountId, connector: connection };
    expect(await exportOnce(first, 'contacts', { ...options, hasTimeLeft: () => false })).toEqual({ rowsWritten: 0, complete: false });
    const staging = stagingTableName({ exportId: first.exportId, dataset: datasets.contacts });
    expect(double.table(first.warehouse, staging, PROJECT)).toBeDefined();

    const warehouse = newWarehouse();
    expect((await stack.request(tenant, 'PUT', `/api/v1/exports/${first.exportId}`, { dataset: warehouse })).status).toBe(200);
    const moved = { exportId: first.exportId, warehouse };
    expect(await exportOnce(moved, 'contacts', options)).toEqual({ rowsWritten: 3, complete: true });

    expect(double.table(first.warehouse, staging, PROJECT)).toBeUndefined();
    expect(tableRows(warehouse, 'contacts')).toHaveLength(3);
    // Pointed back, the first dataset gets a whole pass of its own.
    expect(await exportOnce(first, 'contacts', options)).toEqual({ rowsWritten: 3, complete: true });
  });

  it('continues a pass that ran out of time in the next invocation, with one MERGE', async () => {
    const { tenant, connection, target } = await tenantExport();
    const contactId = await insertContact(stack.platform.db, tenant.accountId);
    for (let index = 0; index < 5; index += 1) await insertActivity(stack.platform.db, tenant.accountId, { contactId });
    const jobs = [uploads(), merges()];
    const options = { chunkRows: 2, accountId: tenant.accountId, connector: connection, hasTimeLeft: () => false };

    const progress: boolean[] = [];
    for (let invocation = 0; invocation < 10 && !progress.at(-1); invocation += 1)
      progress.push((await exportOnce(target, 'contactActivities', options)).complete);
    expect(progress).toEqual([false, false, false, true]);
    expect(tableRows(target.warehouse, 'contactActivities')).toHaveLength(5);
    expect([uploads() - jobs[0]!, merges() - jobs[1]!]).toEqual([3, 1]);
  });
});

describe('failures', () => {
  it('fails the run with the connector code when the BigQuery dataset is missing, and keeps the cursor', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/exports', {
      connectorId,
      datasets: ['orders'],
      dataset: 'not_created_yet',
      paused: true,
    });
    expect(created.status).toBe(201);
    await platformSettled(stack.platform);
    expect((await stack.request(account, 'POST', `/api/v1/exports/${created.body.id}/run`)).status).toBe(202);
    const [run] = await eventually(async () => {
      const runs = await stack.request(account, 'GET', `/api/v1/exports/${created.body.id}/runs`);
      return runs.body[0]?.status === 'failed' ? runs.body : undefined;
    });
    expect(run.error).toEqual({ code: 'BIGQUERY_DATASET_NOT_FOUND', message: expect.any(String) });
    const cursor = await stack.platform.db.query('SELECT 1 FROM export_bigquery_cursors WHERE export_id = $1 AND low_xid > $2::xid8', [
      created.body.id,
      '0',
    ]);
    expect(cursor.rowCount).toBe(0);

    // Once the dataset exists, the next run exports everything.
    double.addDataset('not_created_yet', { projectId: PROJECT });
    expect((await stack.request(account, 'POST', `/api/v1/exports/${created.body.id}/run`)).status).toBe(202);
    await eventually(async () => {
      const runs = await stack.request(account, 'GET', `/api/v1/exports/${created.body.id}/runs`);
      return runs.body[0]?.status === 'succeeded' ? true : undefined;
    });
    expect(tableRows('not_created_yet', 'orders').length).toBeGreaterThan(0);
  });

  it('retries a load job BigQuery reports as failed under a new id, and only then moves the cursor', async () => {
    const { tenant, connection, target } = await tenantExport();
    const contactId = Number(await insertContact(stack.platform.db, tenant.accountId));
    const options = { accountId: tenant.accountId, connector: connection };

    double.failNextLoads(1);
    await expect(exportOnce(target, 'contacts', options)).rejects.toMatchObject({ code: 'BIGQUERY_QUERY_FAILED' });
    expect(tableRows(target.warehouse, 'contacts')).toEqual([]);

    expect(await exportOnce(target, 'contacts', options)).toEqual({ rowsWritten: 1, complete: true });
    expect(tableRows(target.warehouse, 'contacts').map((row) => row.contactId)).toEqual([contactId]);
    const loads = double
      .jobIds()
      .filter((id) => id.startsWith(`satellite_${tenant.accountId}_${target.exportId}_contacts_`) && id.includes('_load_'));
    expect(loads).toEqual([expect.not.stringMatching(/_2$/), expect.stringMatching(/_2$/)]);
  });

  it('refuses a pre-existing table whose columns it cannot write, naming each, before staging anything', async () => {
    const target = await newExport();
    double.addTable(
      target.warehouse,
      'orders',
      [
        { name: 'orderId', type: 'INTEGER', mode: 'REQUIRED' },
        { name: 'totalCost', type: 'NUMERIC', mode: 'NULLABLE' },
        { name: 'orderDate', type: 'DATETIME', mode: 'NULLABLE' },
        { name: 'email', type: 'STRING', mode: 'REQUIRED' },
        { name: 'legacyFlag', type: 'BOOLEAN', mode: 'REQUIRED' },
      ],
      [],
      { projectId: PROJECT },
    );
    const loadsBefore = uploads();
    const failure = exportOnce(target, 'orders');
    await expect(failure).rejects.toMatchObject({ code: 'DESTINATION_TABLE_INCOMPATIBLE' });
    const message = ((await failure.catch((error: Error) => error)) as Error).message;
    expect(message).toContain(`table ${target.warehouse}.orders cannot take the export`);
    expect(message).toContain('column totalCost is NUMERIC; Satellite writes FLOAT64');
    expect(message).toContain('column orderDate is DATETIME; Satellite writes TIMESTAMP');
    expect(message).toContain('column email is REQUIRED; Satellite leaves it empty');
    expect(message).toContain('column legacyFlag is REQUIRED; Satellite does not write it');
    expect(message).not.toContain('orderId');
    expect(uploads()).toBe(loadsBefore);
    expect(double.table(target.warehouse, 'orders', PROJECT)!.schema).toHaveLength(5);
  });

  it('fails with BIGQUERY_KEY_REVOKED when the key was deleted in the console', async () => {
    const tenant = await stack.createAccount();
    const revoked = double.keyFor(PROJECT);
    const tenantConnector = await saveBigQueryConnector(stack.platform, tenant.accountId, { ...revoked });
    double.revokeKey(revoked);
    const target = await newExport(tenant, tenantConnector);
    await insertContact(stack.platform.db, tenant.accountId);
    const connection = await getConnector(stack.platform.db, tenant.accountId, tenantConnector);
    await expect(exportOnce(target, 'contacts', { accountId: tenant.accountId, connector: connection })).rejects.toMatchObject({
      code: 'BIGQUERY_KEY_REVOKED',
    });
  });
});

describe('the exports API with a BigQuery connector', () => {
  it('accepts a BigQuery export only with a daily interval and a dataset', async () => {
    const hourly = await stack.request(account, 'POST', '/api/v1/exports', {
      connectorId,
      datasets: ['orders'],
      interval: 'hourly',
      dataset: 'satellite',
    });
    expect([hourly.status, hourly.body.error.code]).toEqual([400, 'INTERVAL_NOT_SUPPORTED']);
    const noDataset = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, datasets: ['orders'] });
    expect([noDataset.status, noDataset.body.error.code]).toEqual([400, 'DATASET_REQUIRED']);
    const badName = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, datasets: ['orders'], dataset: 'my-dataset' });
    expect([badName.status, badName.body.error.code]).toEqual([400, 'DATASET_NAME_INVALID']);

    const daily = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, datasets: ['orders'], dataset: 'satellite' });
    expect(daily.status).toBe(201);
    expect(daily.body).toMatchObject({ destination: 'bigquery', interval: 'daily', dataset: 'satellite', datasets: ['orders'] });
    const toHourly = await stack.request(account, 'PUT', `/api/v1/exports/${daily.body.id}`, { interval: 'hourly' });
    expect([toHourly.status, toHourly.body.error.code]).toEqual([400, 'INTERVAL_NOT_SUPPORTED']);
    expect((await stack.request(account, 'GET', `/api/v1/exports/${daily.body.id}`)).body.interval).toBe('daily');
  });
});

describe('streaming inserts', () => {
  it('are never used: rows only arrive through load jobs', () => {
    expect(uploads()).toBeGreaterThan(0);
    expect(double.requests.filter((request) => /insertAll/i.test(request.path))).toEqual([]);
  });
});
