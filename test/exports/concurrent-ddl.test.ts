import { datasetNames } from '../../shared/exports/datasets';
import { exportDatasetJob } from '../../shared/exports/run-job';
import { createCustomerDatabase, type CustomerDatabase } from '../support/customer-postgres';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { platformSettled, savePostgresConnector } from './connectors';
import { insertOneOfEach } from './platform-rows';

let stack: TestStack;
let account: TestAccount;
let customer: CustomerDatabase;
let connectors: number[];

beforeAll(async () => {
  // No queue consumers: the test runs every dataset's job itself, all at once. Each job holds a
  // platform connection for its run lock and reads through another (one Lambda each, deployed).
  stack = await startTestStack({ background: false, env: { DB_POOL_SIZE: '40' } });
  account = await stack.createAccount();
  customer = await createCustomerDatabase(stack);
  // Two connectors to one database: two exports into one schema, each with its own connections.
  connectors = [
    await savePostgresConnector(stack.platform, account.accountId, customer),
    await savePostgresConnector(stack.platform, account.accountId, customer),
  ];
  await insertOneOfEach(stack.platform.db, account.accountId, 'race');
  await platformSettled(stack.platform);
});
afterAll(async () => {
  await stack.stop();
  await customer.drop();
});

interface Run {
  id: number;
  dataset: string;
  status: string;
  attempts: number;
  error: { code: string; message: string } | null;
}

const budget = { remainingMs: () => 10 * 60_000 };

async function startExport(connectorId: number, schema: string): Promise<{ exportId: number; runs: Run[] }> {
  const created = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, datasets: datasetNames, schema });
  expect(created.status).toBe(201);
  const started = await stack.request(account, 'POST', `/api/v1/exports/${created.body.id}/run`);
  expect(started.status).toBe(202);
  return { exportId: created.body.id, runs: started.body.runs };
}

describe('a fresh schema', () => {
  it.each(Array.from({ length: 10 }, (_, round) => round + 1))(
    'takes all 8 datasets of two exports started at the same moment, each on its first attempt (round %i)',
    async (round) => {
      const schema = `fresh_${round}_${Date.now().toString(36)}`;
      await customer.admin.query(`CREATE SCHEMA ${schema} AUTHORIZATION ${customer.user}`);
      const exports = [await startExport(connectors[0]!, schema), await startExport(connectors[1]!, schema)];
      const jobs = exports.flatMap(({ runs }) => runs.map((run) => exportDatasetJob(stack.platform, { runId: run.id }, budget)));
      const outcomes = await Promise.all(jobs);
      expect(outcomes).toEqual(jobs.map(() => 'succeeded'));

      for (const { exportId } of exports) {
        const runs = (await stack.request(account, 'GET', `/api/v1/exports/${exportId}/runs`)).body as Run[];
        expect(runs.map((run) => [run.dataset, run.status, run.attempts, run.error]).sort()).toEqual(
          datasetNames.map((name) => [name, 'succeeded', 0, null]).sort(),
        );
      }
      for (const name of datasetNames) {
        const { rows } = await customer.admin.query(`SELECT count(*)::int AS n FROM ${schema}."${name}"`);
        expect([name, rows[0].n]).toEqual([name, 1]);
      }
    },
  );
});
