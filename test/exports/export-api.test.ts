import { datasetNames } from '../../shared/exports/datasets';
import { createCustomerDatabase, type CustomerDatabase } from '../support/customer-postgres';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { eventually, platformSettled, savePostgresConnector } from './connectors';
import { insertActivity, insertOneOfEach } from './platform-rows';

let stack: TestStack;
let account: TestAccount;
let customer: CustomerDatabase;
let connectorId: number;

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      // Two rows a chunk and one chunk per invocation: every run goes through continuations.
      EXPORT_CHUNK_ROWS: '2',
      EXPORT_TIME_RESERVE_MS: String(10 ** 9),
      EXPORT_RETRY_BASE_SECONDS: '0',
      EXPORT_MAX_ATTEMPTS: '2',
    },
  });
  account = await stack.createAccount();
  customer = await createCustomerDatabase(stack);
  connectorId = await savePostgresConnector(stack.platform, account.accountId, customer);
});
afterAll(async () => {
  await stack.stop();
  await customer.drop();
});

interface Run {
  id: number;
  dataset: string;
  status: string;
  rowsWritten: number;
  trigger: string;
  error: { code: string; message: string } | null;
}

async function runsSettled(exportId: number, count: number, trigger?: 'schedule' | 'manual'): Promise<Run[]> {
  return eventually(async () => {
    const response = await stack.request(account, 'GET', `/api/v1/exports/${exportId}/runs`);
    const runs = response.body as Run[];
    const latest = runs.slice(0, count);
    const settled = latest.every((run) => (run.status === 'succeeded' || run.status === 'failed') && (!trigger || run.trigger === trigger));
    return latest.length === count && settled ? latest : undefined;
  });
}

async function count(table: string): Promise<number> {
  return Number((await customer.admin.query(`SELECT count(*) AS n FROM public."${table}"`)).rows[0].n);
}

describe('an export to PostgreSQL', () => {
  let exportId: number;

  it('is created with its schedule', async () => {
    const response = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, datasets: datasetNames, interval: 'hourly' });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      connectorId,
      destination: 'postgres',
      datasets: [...datasetNames],
      interval: 'hourly',
      schema: 'public',
      paused: false,
    });
    exportId = response.body.id;
    const schedule = await stack.platform.db.query('SELECT expression, target, enabled, detail FROM local_schedules WHERE name = $1', [
      `export-${exportId}`,
    ]);
    expect(schedule.rows).toEqual([
      { expression: 'rate(1 hour)', target: 'exports', enabled: true, detail: { exportId, accountId: account.accountId } },
    ]);
    expect((await stack.request(account, 'GET', `/api/v1/exports/${exportId}`)).body).toEqual(response.body);
    expect((await stack.request(account, 'GET', '/api/v1/exports')).body).toEqual([response.body]);
  });

  it('runs now on request: every dataset lands in its table, with rows written on each run', async () => {
    await insertOneOfEach(stack.platform.db, account.accountId, 'a');
    await insertOneOfEach(stack.platform.db, account.accountId, 'b');
    await insertOneOfEach(stack.platform.db, account.accountId, 'c');
    await platformSettled(stack.platform);
    const started = await stack.request(account, 'POST', `/api/v1/exports/${exportId}/run`);
    expect(started.status).toBe(202);
    expect(started.body.runs.map((run: Run) => run.dataset).sort()).toEqual([...datasetNames].sort());

    const runs = await runsSettled(exportId, datasetNames.length);
    expect(runs.map((run) => [run.dataset, run.status, run.rowsWritten]).sort()).toEqual(datasetNames.map((name) => [name, 'succeeded', 3]).sort());
    for (const name of datasetNames) expect([name, await count(name)]).toEqual([name, 3]);
  });

  it('fires from its schedule and exports only what changed', async () => {
    const before = await customer.admin.query('SELECT * FROM public."contactActivities" ORDER BY "activityId"');
    const { rows } = await stack.platform.db.query<{ id: number }>('SELECT id FROM contacts WHERE account_id = $1 LIMIT 1', [account.accountId]);
    const added = await insertActivity(stack.platform.db, account.accountId, { contactId: rows[0]!.id, status: 'RECEIVED' });
    await platformSettled(stack.platform);

    await stack.platform.db.query(`UPDATE local_schedules SET next_run_at = now() - interval '1 second' WHERE name = $1`, [`export-${exportId}`]);
    // The stack's own scheduler loop may claim the due schedule first; either way it fires once.
    await stack.scheduler.fireDue();
    const runs = await runsSettled(exportId, datasetNames.length, 'schedule');
    expect(runs.find((run) => run.dataset === 'contactActivities')).toMatchObject({ status: 'succeeded', rowsWritten: 1 });
    expect(runs.find((run) => run.dataset === 'orders')).toMatchObject({ status: 'succeeded', rowsWritten: 0 });

    const after = await customer.admin.query('SELECT * FROM public."contactActivities" ORDER BY "activityId"');
    expect(after.rows.slice(0, before.rows.length)).toEqual(before.rows);
    expect(after.rows.map((row) => Number(row.activityId))).toContain(added);
    expect(after.rows).toHaveLength(before.rows.length + 1);
  });

  it('pauses, resumes and changes its interval through the scheduler', async () => {
    expect((await stack.request(account, 'POST', `/api/v1/exports/${exportId}/pause`)).body.paused).toBe(true);
    const enabled = async () =>
      (await stack.platform.db.query('SELECT enabled, expression FROM local_schedules WHERE name = $1', [`export-${exportId}`])).rows[0];
    expect(await enabled()).toEqual({ enabled: false, expression: 'rate(1 hour)' });
    await stack.request(account, 'POST', `/api/v1/exports/${exportId}/resume`);
    const updated = await stack.request(account, 'PUT', `/api/v1/exports/${exportId}`, { interval: 'every15Minutes', datasets: ['contacts'] });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ interval: 'every15Minutes', datasets: ['contacts'], paused: false });
    expect(await enabled()).toEqual({ enabled: true, expression: 'rate(15 minutes)' });
  });

  it('keeps its connector from being deleted under it', async () => {
    const refused = await stack.request(account, 'DELETE', `/api/v1/connectors/${connectorId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('CONNECTOR_IN_USE');
  });

  it('is deleted with its schedule', async () => {
    expect((await stack.request(account, 'DELETE', `/api/v1/exports/${exportId}`)).status).toBe(204);
    expect((await stack.platform.db.query('SELECT 1 FROM local_schedules WHERE name = $1', [`export-${exportId}`])).rowCount).toBe(0);
    expect((await stack.request(account, 'GET', `/api/v1/exports/${exportId}`)).body.error.code).toBe('EXPORT_NOT_FOUND');
  });
});

describe('failures', () => {
  it('fails a run on a read-only destination with the connector code and leaves the destination untouched', async () => {
    const readOnly = await createCustomerDatabase(stack);
    try {
      await readOnly.admin.query(`ALTER ROLE ${readOnly.user} SET default_transaction_read_only = on`);
      const target = await savePostgresConnector(stack.platform, account.accountId, readOnly);
      const created = await stack.request(account, 'POST', '/api/v1/exports', { connectorId: target, datasets: ['contacts'], interval: 'daily' });
      await stack.request(account, 'POST', `/api/v1/exports/${created.body.id}/run`);
      const [run] = await runsSettled(created.body.id, 1);
      expect(run).toMatchObject({ status: 'failed', attempts: 2, rowsWritten: 0, error: { code: 'READ_ONLY_DESTINATION' } });
      expect((await readOnly.admin.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0].n).toBe(0);
    } finally {
      await readOnly.drop();
    }
  });

  it('fails a run on an unreachable destination with the connector code', async () => {
    const target = await savePostgresConnector(stack.platform, account.accountId, { ...customer, port: 1 });
    const created = await stack.request(account, 'POST', '/api/v1/exports', { connectorId: target, datasets: ['orders'] });
    await stack.request(account, 'POST', `/api/v1/exports/${created.body.id}/run`);
    const [run] = await runsSettled(created.body.id, 1);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'CONNECTION_REFUSED' } });
    expect(JSON.stringify(run)).not.toContain(customer.password);
  });
});

describe('validation', () => {
  it.each([
    ['an unknown dataset', { datasets: ['everything'] }],
    ['no dataset', { datasets: [] }],
    ['an unknown interval', { datasets: ['orders'], interval: 'weekly' }],
    ['both schema and dataset', { datasets: ['orders'], schema: 'a', dataset: 'b' }],
  ])('refuses %s', async (_, body) => {
    const response = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, ...body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('answers 404 for an unknown connector, and for another account’s export', async () => {
    const missing = await stack.request(account, 'POST', '/api/v1/exports', { connectorId: 999_999, datasets: ['orders'] });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('CONNECTOR_NOT_FOUND');
    const created = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, datasets: ['orders'] });
    const stranger = await stack.createAccount();
    expect((await stack.request(stranger, 'GET', `/api/v1/exports/${created.body.id}`)).status).toBe(404);
    expect((await stack.request(stranger, 'POST', `/api/v1/exports/${created.body.id}/run`)).status).toBe(404);
  });

  it('needs the settings right', async () => {
    const limited = await stack.createAccount({ rights: 'events' });
    expect((await stack.request(limited, 'GET', '/api/v1/exports')).status).toBe(403);
  });
});
