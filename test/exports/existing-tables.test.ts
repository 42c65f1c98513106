import type { DatasetName } from '../../shared/exports/datasets';
import { exportDatasetJob } from '../../shared/exports/run-job';
import { createCustomerDatabase, type CustomerDatabase } from '../support/customer-postgres';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { platformSettled, savePostgresConnector } from './connectors';
import { insertOneOfEach } from './platform-rows';

/**
 * Tables already in the destination schema when the first export runs, as eSputnik's own
 * export (or a hand-made script) left them: no satelliteVersion, some columns missing,
 * perhaps no key. Each case runs the export worker's job against the real database.
 */
let stack: TestStack;
let account: TestAccount;
let customer: CustomerDatabase;
let connectorId: number;
let ids: Awaited<ReturnType<typeof insertOneOfEach>>;
let schemas = 0;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
  customer = await createCustomerDatabase(stack);
  connectorId = await savePostgresConnector(stack.platform, account.accountId, customer);
  ids = await insertOneOfEach(stack.platform.db, account.accountId, 'legacy');
});
afterAll(async () => {
  await stack.stop();
  await customer.drop();
});

interface Run {
  status: string;
  attempts: number;
  error: { code: string; message: string } | null;
}

/** A schema of the export's role holding the tables `ddl` makes, as that role would have made them. */
async function schemaWith(ddl: string): Promise<string> {
  schemas += 1;
  const schema = `legacy_${schemas}_${Date.now().toString(36)}`;
  const client = await customer.admin.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema} AUTHORIZATION ${customer.user}`);
    await client.query('BEGIN');
    await client.query(`SET LOCAL ROLE ${customer.user}`);
    await client.query(`SET LOCAL search_path = ${schema}`);
    await client.query(ddl);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  return schema;
}

/** One pass of one dataset's export, as the worker runs it; the run as the API shows it. */
async function exportPass(exportId: number): Promise<Run> {
  await platformSettled(stack.platform);
  const started = await stack.request(account, 'POST', `/api/v1/exports/${exportId}/run`);
  expect(started.status).toBe(202);
  const [run] = started.body.runs as { id: number }[];
  await exportDatasetJob(stack.platform, { runId: run!.id }, { remainingMs: () => 10 * 60_000 });
  const [latest] = (await stack.request(account, 'GET', `/api/v1/exports/${exportId}/runs?limit=1`)).body as Run[];
  return latest!;
}

async function createExport(dataset: DatasetName, schema: string): Promise<number> {
  const created = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, datasets: [dataset], schema });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function rows(schema: string, table: string, orderBy: string): Promise<Record<string, unknown>[]> {
  return (await customer.admin.query(`SELECT * FROM ${schema}."${table}" ORDER BY "${orderBy}"`)).rows;
}

async function columnsOf(schema: string, table: string): Promise<string[]> {
  const { rows: found } = await customer.admin.query<{ column_name: string }>(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY column_name',
    [schema, table],
  );
  return found.map((row) => row.column_name);
}

describe('a pre-existing table without the key or the version', () => {
  it('gets the missing columns and the key; its own row is overwritten, and every later pass succeeds', async () => {
    const schema = await schemaWith(`
      CREATE TABLE contacts ("contactId" bigint, "email" varchar(100), "firstName" text, "lastName" varchar(50), note text DEFAULT 'kept');
      INSERT INTO contacts VALUES (${ids.contactId}, 'old@example.com', 'Old', 'Name'), (1, 'legacy@example.com', 'Legacy', 'Row');`);
    const exportId = await createExport('contacts', schema);

    expect(await exportPass(exportId)).toMatchObject({ status: 'succeeded', attempts: 0, error: null });
    const primaryKey = await customer.admin.query(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '${schema}.contacts'::regclass AND contype = 'p'`,
    );
    expect(primaryKey.rows).toEqual([{ def: 'PRIMARY KEY ("contactId")' }]);
    expect(await columnsOf(schema, 'contacts')).toEqual(
      expect.arrayContaining(['emailStatus', 'totalViewed', 'satelliteVersion', 'satelliteDeletedAt', 'note']),
    );
    const exported = await rows(schema, 'contacts', 'contactId');
    expect(exported).toHaveLength(2);
    expect(exported[0]).toMatchObject({ contactId: 1, firstName: 'Legacy', satelliteVersion: null });
    expect(exported[1]).toMatchObject({
      contactId: ids.contactId,
      email: 'dina.legacy@example.com',
      firstName: 'Dina',
      note: 'kept',
      satelliteVersion: expect.any(Number),
    });

    await stack.platform.db.query(`UPDATE contacts SET first_name = 'Renamed' WHERE id = $1`, [ids.contactId]);
    expect(await exportPass(exportId)).toMatchObject({ status: 'succeeded', attempts: 0, error: null });
    expect((await rows(schema, 'contacts', 'contactId'))[1]).toMatchObject({ firstName: 'Renamed' });
  });

  it('overwrites rows that have the key but no version on the next pass', async () => {
    const schema = await schemaWith(`
      CREATE TABLE "orderItems" ("orderId" int, "externalProductId" varchar(100), "name" varchar(100), "quantity" int, PRIMARY KEY ("orderId", "externalProductId"));
      INSERT INTO "orderItems" VALUES (${ids.orderId}, 'sku-1', 'Old scarf', 9);`);
    const exportId = await createExport('orderItems', schema);
    expect(await exportPass(exportId)).toMatchObject({ status: 'succeeded', error: null });
    expect(await rows(schema, 'orderItems', 'orderId')).toEqual([
      expect.objectContaining({ orderId: ids.orderId, externalProductId: 'sku-1', name: 'Scarf', quantity: 2, satelliteVersion: expect.any(Number) }),
    ]);
  });
});

describe('a pre-existing table that cannot take the export', () => {
  it('fails before writing anything when rows have no key', async () => {
    const schema = await schemaWith(`
      CREATE TABLE "contactActivities" ("contactId" bigint, "activity" varchar(100), "started" timestamp);
      INSERT INTO "contactActivities" VALUES (5, 'DELIVERED', '2021-10-08 11:11:02');`);
    const exportId = await createExport('contactActivities', schema);
    const run = await exportPass(exportId);
    expect(run).toMatchObject({ status: 'retrying', error: { code: 'DESTINATION_TABLE_KEY_INVALID' } });
    expect(run.error!.message).toContain(`${schema}.contactActivities`);
    expect(run.error!.message).toContain('1 row has no activityId');
    // Not even the key column was added, and the old row is alone.
    expect(await columnsOf(schema, 'contactActivities')).toEqual(['activity', 'contactId', 'started']);
    expect(await rows(schema, 'contactActivities', 'contactId')).toHaveLength(1);
  });

  it('fails before writing anything when a key repeats', async () => {
    const schema = await schemaWith(`
      CREATE TABLE orders ("orderId" int, "status" varchar(50));
      INSERT INTO orders VALUES (7, 'DELIVERED'), (7, 'CANCELED'), (8, 'INITIALIZED');`);
    const exportId = await createExport('orders', schema);
    const run = await exportPass(exportId);
    expect(run).toMatchObject({ status: 'retrying', error: { code: 'DESTINATION_TABLE_KEY_INVALID' } });
    expect(run.error!.message).toMatch(new RegExp(`${schema}\\.orders .*1 value of orderId appears more than once \\(for example 7\\)`));
    expect(await columnsOf(schema, 'orders')).toEqual(['orderId', 'status']);
    expect(await rows(schema, 'orders', 'orderId')).toHaveLength(3);
  });

  it('names every column it cannot write, and writes nothing', async () => {
    const schema = await schemaWith(`
      CREATE TABLE broadcasts ("id" int PRIMARY KEY, "name" varchar(10), "status" varchar(50) NOT NULL, "createdDate" text, "Mediatype" text, "owner" text NOT NULL);`);
    const exportId = await createExport('broadcasts', schema);
    const run = await exportPass(exportId);
    expect(run).toMatchObject({ status: 'retrying', error: { code: 'DESTINATION_TABLE_INCOMPATIBLE' } });
    expect(run.error!.message).toContain(`table ${schema}.broadcasts cannot take the export`);
    expect(run.error!.message).toContain('column name is character varying(10); Satellite writes varchar(1000)');
    expect(run.error!.message).toContain('column status is NOT NULL');
    expect(run.error!.message).toContain('column createdDate is text; Satellite writes timestamp');
    expect(run.error!.message).toContain('column Mediatype should be named mediaType');
    expect(run.error!.message).toContain('column owner is NOT NULL without a default');
    expect(await columnsOf(schema, 'broadcasts')).toEqual(['Mediatype', 'createdDate', 'id', 'name', 'owner', 'status']);
    expect(await rows(schema, 'broadcasts', 'id')).toEqual([]);
  });

  it('refuses a view in the table’s place', async () => {
    const schema = await schemaWith(`CREATE VIEW messages AS SELECT 1 AS "messageId";`);
    const run = await exportPass(await createExport('messages', schema));
    expect(run.error).toEqual({
      code: 'DESTINATION_TABLE_INCOMPATIBLE',
      message: `table ${schema}.messages cannot take the export: it is a view, not a table`,
    });
  });
});
