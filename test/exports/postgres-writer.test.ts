import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { addOrUpdateContact, deleteContact } from '../../shared/contacts/save-contact';
import { datasetNames, datasets, type DatasetName } from '../../shared/exports/datasets';
import type { WriterStep } from '../../shared/exports/export-pass';
import { exportToPostgres } from '../../shared/exports/postgres-writer';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { platformSettled } from './connectors';
import { insertActivity, insertContact, insertOneOfEach } from './platform-rows';

let stack: TestStack;
let account: TestAccount;
let destinationName: string;
let exportIds = 0;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
  destinationName = `dest_${randomBytes(5).toString('hex')}`;
  await stack.platform.db.query(`CREATE DATABASE ${destinationName}`);
});
afterAll(async () => {
  await stack.platform.db.query(`DROP DATABASE IF EXISTS ${destinationName} WITH (FORCE)`);
  await stack.stop();
});

async function withDestination<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: stack.databaseUrlFor(destinationName) });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function exportOnce(
  exportId: number,
  dataset: DatasetName,
  schema: string,
  options: { chunkRows?: number; onStep?: (step: WriterStep, client: Client) => Promise<void>; accountId?: number; settle?: boolean } = {},
) {
  // Other test files' open transactions hold the pass bound back; wait them out unless the test holds one itself.
  if (options.settle !== false) await platformSettled(stack.platform);
  return withDestination((client) =>
    exportToPostgres({
      source: stack.platform.db,
      destination: client,
      schema,
      dataset: datasets[dataset],
      exportId,
      accountId: options.accountId ?? account.accountId,
      chunkRows: options.chunkRows ?? 1000,
      hasTimeLeft: () => true,
      onStep: options.onStep ? (step) => options.onStep!(step, client) : undefined,
    }),
  );
}

async function destinationRows(schema: string, table: string, orderBy: string): Promise<Record<string, unknown>[]> {
  return withDestination(async (client) => (await client.query(`SELECT * FROM "${schema}"."${table}" ORDER BY "${orderBy}"`)).rows);
}

async function newSchema(): Promise<string> {
  const schema = `s_${randomBytes(4).toString('hex')}`;
  await withDestination((client) => client.query(`CREATE SCHEMA ${schema}`));
  return schema;
}

describe('PostgreSQL tables', () => {
  let schema: string;
  let ids: Awaited<ReturnType<typeof insertOneOfEach>>;
  const exportId = ++exportIds;

  beforeAll(async () => {
    schema = await newSchema();
    ids = await insertOneOfEach(stack.platform.db, account.accountId, 'tables');
    for (const dataset of datasetNames) await exportOnce(exportId, dataset, schema);
  });

  it('creates each table named after its dataset with every documented column and type', async () => {
    const columns = await withDestination(
      async (client) =>
        (
          await client.query<{ table_name: string; column_name: string; type: string }>(
            `SELECT c.table_name, c.column_name, format_type(a.atttypid, a.atttypmod) AS type
             FROM information_schema.columns c
             JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
            WHERE c.table_schema = $1`,
            [schema],
          )
        ).rows,
    );
    const typeOf = (table: string, column: string) => columns.find((row) => row.table_name === table && row.column_name === column)?.type;
    expect(typeOf('broadcasts', 'createdDate')).toBe('timestamp without time zone');
    expect(typeOf('broadcasts', 'name')).toBe('character varying(1000)');
    expect(typeOf('contactActivities', 'activity')).toBe('character varying(100)');
    expect(typeOf('contactActivities', 'activityStatus')).toBe('character varying(100)');
    expect(typeOf('contactActivities', 'workflowInstanceId')).toBe('character varying(200)');
    expect(typeOf('contactActivities', 'contactId')).toBe('bigint');
    expect(typeOf('contactActivities', 'messageId')).toBe('integer');
    expect(typeOf('contacts', 'externalCustomerId')).toBe('character varying(100)');
    expect(typeOf('devices', 'pushToken')).toBe('character varying');
    expect(typeOf('orderItems', 'cost')).toBe('numeric');
    expect(typeOf('orders', 'totalCost')).toBe('numeric');
    expect(typeOf('revenue', 'currency')).toBe('character varying(3)');
    for (const name of datasetNames) {
      for (const column of datasets[name].columns)
        expect([name, column.name, typeOf(name, column.name)]).toEqual([name, column.name, expect.any(String)]);
    }
  });

  it('writes the values in the seeds formats, deprecated names beside their replacements', async () => {
    const [activity] = await destinationRows(schema, 'contactActivities', 'activityId');
    expect(activity).toMatchObject({
      activityId: ids.activityId,
      activity: 'CLICKED',
      activityStatus: 'CLICKED',
      errorCode: '550 mailbox full',
      statusDescription: '550 mailbox full',
      workflowInstanceId: 'wi-9',
      externalCustomerId: 'ext-1',
      messageURL: 'https://example.com/web',
    });
    // timestamps are UTC wall-clock values, read back as text to avoid the client's time zone
    const times = await withDestination(
      async (client) =>
        (await client.query(`SELECT "started"::text AS started, "activityDateTime"::text AS adt FROM "${schema}"."contactActivities"`)).rows[0],
    );
    expect(times).toEqual({ started: '2021-10-08 11:11:02', adt: '2021-10-08 11:11:02' });

    const [contact] = await destinationRows(schema, 'contacts', 'contactId');
    expect(contact).toMatchObject({
      contactId: ids.contactId,
      externalCustomerId: 'ext-tables',
      email: 'dina.tables@example.com',
      emailDomain: 'example.com',
      sms: '380501234567',
      totalSent: 3,
    });
    const [revenue] = await destinationRows(schema, 'revenue', 'orderId');
    expect(revenue).toMatchObject({ orderId: ids.orderId, activity: 'CLICKED', activityStatus: 'CLICKED', totalCost: '120.5000', currency: 'UAH' });
    const [item] = await destinationRows(schema, 'orderItems', 'orderId');
    expect(item).toMatchObject({ orderId: ids.orderId, externalProductId: 'sku-1', quantity: 2, cost: '60.2500' });
  });

  it('changes nothing when run again', async () => {
    const before = await destinationRows(schema, 'contacts', 'contactId');
    const progress = await exportOnce(exportId, 'contacts', schema);
    expect(progress).toEqual({ rowsWritten: 0, complete: true });
    expect(await destinationRows(schema, 'contacts', 'contactId')).toEqual(before);
  });

  it('updates exactly the changed row, including one whose channel changed', async () => {
    const other = await insertContact(stack.platform.db, account.accountId, { externalCustomerId: 'ext-other', email: 'other@example.com' });
    await exportOnce(exportId, 'contacts', schema);
    const before = await destinationRows(schema, 'contacts', 'contactId');

    await stack.platform.db.query(`UPDATE contact_channels SET value = 'new@example.org' WHERE contact_id = $1`, [other]);
    const progress = await exportOnce(exportId, 'contacts', schema);
    expect(progress.rowsWritten).toBe(1);
    const after = await destinationRows(schema, 'contacts', 'contactId');
    expect(after).toHaveLength(before.length);
    expect(after.find((row) => row.contactId === other)).toMatchObject({ email: 'new@example.org', emailDomain: 'example.org' });
    expect(after.filter((row) => row.contactId !== other)).toEqual(before.filter((row) => row.contactId !== other));
  });

  it('marks a deleted contact with its deletion time, and a restored one as live again', async () => {
    const gone = await insertContact(stack.platform.db, account.accountId, { externalCustomerId: 'ext-gone', email: 'gone@example.com' });
    await exportOnce(exportId, 'contacts', schema);
    const exported = async () => (await destinationRows(schema, 'contacts', 'contactId')).find((row) => row.contactId === gone);
    expect(await exported()).toMatchObject({ satelliteDeletedAt: null });

    await deleteContact(stack.platform.db, account.accountId, gone);
    await exportOnce(exportId, 'contacts', schema);
    // In UTC to the second, as every seed timestamp.
    const deleted = await stack.platform.db.query<{ at: string }>(
      `SELECT to_char(deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at FROM contacts WHERE id = $1`,
      [gone],
    );
    const marked = await withDestination((client) =>
      client.query<{ at: string }>(`SELECT "satelliteDeletedAt"::text AS at FROM "${schema}".contacts WHERE "contactId" = $1`, [gone]),
    );
    expect(marked.rows[0]!.at).toBe(deleted.rows[0]!.at);

    await addOrUpdateContact(stack.platform.db, account.accountId, { externalCustomerId: 'ext-gone', firstName: 'Back' });
    await exportOnce(exportId, 'contacts', schema);
    expect(await exported()).toMatchObject({ satelliteDeletedAt: null, firstName: 'Back' });
  });

  it("updates revenue when the order's total changes", async () => {
    await stack.platform.db.query('UPDATE orders SET total_cost = 99.99 WHERE id = $1', [ids.orderId]);
    await exportOnce(exportId, 'revenue', schema);
    const [revenue] = await destinationRows(schema, 'revenue', 'orderId');
    expect(revenue).toMatchObject({ totalCost: '99.9900' });
  });
});

describe('a first pass into a table that already holds rows', () => {
  it('upserts instead of copying straight in: no duplicate, the newer version wins', async () => {
    const schema = await newSchema();
    const contact = await insertContact(stack.platform.db, account.accountId, {
      externalCustomerId: 'ext-shared-table',
      email: 'shared@example.com',
    });
    const firstExport = ++exportIds;
    await exportOnce(firstExport, 'contacts', schema);
    await stack.platform.db.query(`UPDATE contacts SET first_name = 'Renamed' WHERE id = $1`, [contact]);

    // A second export to the same table starts its own first pass; the table's key refuses the copy.
    const secondExport = ++exportIds;
    const progress = await exportOnce(secondExport, 'contacts', schema);
    expect(progress.complete).toBe(true);
    const rows = await destinationRows(schema, 'contacts', 'contactId');
    expect(rows.filter((row) => row.contactId === contact)).toEqual([expect.objectContaining({ firstName: 'Renamed' })]);
    expect(new Set(rows.map((row) => row.contactId)).size).toBe(rows.length);
  });
});

describe('change tracking', () => {
  it('exports a row whose transaction commits late, with an older time, on a later run', async () => {
    const schema = await newSchema();
    const exportId = ++exportIds;
    const tenant = await stack.createAccount();
    const contactId = await insertContact(stack.platform.db, tenant.accountId);
    await insertActivity(stack.platform.db, tenant.accountId, { contactId, occurredAt: '2024-01-01 10:00:00+00' });

    const late = await stack.platform.db.connect();
    try {
      await late.query('BEGIN');
      const lateId = await insertActivity(late, tenant.accountId, { contactId, occurredAt: '2023-01-01 10:00:00+00' });
      const onTime = await insertActivity(stack.platform.db, tenant.accountId, { contactId, occurredAt: '2024-02-01 10:00:00+00' });
      await exportOnce(exportId, 'contactActivities', schema, { accountId: tenant.accountId, settle: false });
      const exported = (await destinationRows(schema, 'contactActivities', 'activityId')).map((row) => Number(row.activityId));
      expect(exported).not.toContain(lateId);
      await late.query('COMMIT');

      await exportOnce(exportId, 'contactActivities', schema, { accountId: tenant.accountId });
      const all = (await destinationRows(schema, 'contactActivities', 'activityId')).map((row) => Number(row.activityId));
      expect(all).toContain(lateId);
      expect(all).toContain(onTime);
      expect(new Set(all).size).toBe(3);
    } finally {
      late.release();
    }
  });
});

describe('a crash at every step of the writer', () => {
  it.each<WriterStep>(['staged', 'upserted', 'checkpointed', 'committed'])(
    'leaves no duplicate and no gap when the destination connection dies after %s',
    async (crashAfter) => {
      const schema = await newSchema();
      const exportId = ++exportIds;
      const tenant = await stack.createAccount();
      const contactId = await insertContact(stack.platform.db, tenant.accountId);
      const expected: number[] = [];
      for (let index = 0; index < 7; index += 1) expected.push(await insertActivity(stack.platform.db, tenant.accountId, { contactId }));

      // The second chunk's connection is killed by the server, as a crash or failover would.
      let chunks = 0;
      const crash = async (step: WriterStep, client: Client) => {
        if (step === 'staged') chunks += 1;
        if (chunks === 2 && step === crashAfter) {
          const pid = (client as unknown as { processID: number }).processID;
          await stack.platform.db.query('SELECT pg_terminate_backend($1)', [pid]);
          // the signal is asynchronous: wait until the backend is gone (bounded)
          for (let check = 0; check < 200; check += 1) {
            const alive = await stack.platform.db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
            if (alive.rowCount === 0) break;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          // the next statement on the killed session fails, as it would after a real crash
          await client.query('SELECT 1');
        }
      };
      await expect(exportOnce(exportId, 'contactActivities', schema, { chunkRows: 3, onStep: crash, accountId: tenant.accountId })).rejects.toThrow();

      const progress = await exportOnce(exportId, 'contactActivities', schema, { chunkRows: 3, accountId: tenant.accountId });
      expect(progress.complete).toBe(true);
      const rows = await destinationRows(schema, 'contactActivities', 'activityId');
      expect(rows.map((row) => Number(row.activityId))).toEqual(expected);
    },
  );
});
