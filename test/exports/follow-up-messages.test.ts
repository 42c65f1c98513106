/**
 * A run's next message (its continuation, or its retry) must be sent only once the run's
 * lock is free: sent while it is held, it can reach another invocation at once, which takes
 * it for a duplicate delivery and drops it, and the run waits for the next schedule.
 * The stack reaches the SQS server through a proxy here, which, whenever a message is sent
 * to the exports queue, asks PostgreSQL whether a job lease (or an advisory lock) is held on
 * the stack's database at that moment.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { createCustomerDatabase, type CustomerDatabase } from '../support/customer-postgres';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { eventually, platformSettled, savePostgresConnector } from './connectors';
import { insertContact } from './platform-rows';

let stack: TestStack;
let account: TestAccount;
let customer: CustomerDatabase;
let proxy: Server;
let locks: Pool;
/** Per message sent to the exports queue: how many advisory locks were held on the stack's database. */
const locksHeldAtSend: number[] = [];
let locksHeld: () => Promise<number>;

/** A test starts once the previous one's run has let go of its lock (its status is written just before). */
async function unlocked(): Promise<void> {
  await eventually(async () => ((await locksHeld()) === 0 ? true : undefined));
  locksHeldAtSend.length = 0;
}

beforeAll(async () => {
  const upstream = process.env.SATELLITE_TEST_SQS_ENDPOINT!;
  let stackDatabase = '';
  proxy = createServer((request, response) => {
    // A client that hangs up hangs up upstream too. The stack's pollers, destroyed on stop, end
    // their 20 s long polls so; forwarded on regardless, each poll kept a socket to the SQS
    // server open for up to 20 s after this file ended, and the jest worker could not exit.
    const upstreamCall = new AbortController();
    response.on('close', () => upstreamCall.abort());
    void (async () => {
      const body = await readBody(request);
      const target = String(request.headers['x-amz-target'] ?? '');
      if (/SendMessage/.test(target) && /-exports"/.test(body.toString('utf8'))) locksHeldAtSend.push(await locksHeld());
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== 'host' && name !== 'connection')) as Record<
        string,
        string
      >;
      const answer = await fetch(`${upstream}${request.url ?? '/'}`, {
        method: request.method,
        headers,
        body: body.length > 0 ? body : undefined,
        signal: upstreamCall.signal,
      });
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      response.end(Buffer.from(await answer.arrayBuffer()));
    })().catch(() => {
      if (!response.destroyed) response.writeHead(502).end();
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  locksHeld = async () => {
    const { rows } = await locks.query<{ held: number }>(
      // Job leases are rows now (shared/jobs/job-lease.ts); session advisory locks would count too.
      `SELECT (SELECT count(*)::int FROM job_leases WHERE expires_at > now())
            + (SELECT count(*)::int FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1) AS held`,
      [stackDatabase],
    );
    return rows[0]!.held;
  };
  stack = await startTestStack({
    sqsEndpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    env: { EXPORT_CHUNK_ROWS: '2', EXPORT_TIME_RESERVE_MS: String(10 ** 9), EXPORT_RETRY_BASE_SECONDS: '0', EXPORT_MAX_ATTEMPTS: '2' },
  });
  stackDatabase = new URL(stack.databaseUrl).pathname.slice(1);
  locks = new Pool({ connectionString: stack.databaseUrl, max: 1 });
  account = await stack.createAccount();
  customer = await createCustomerDatabase(stack);
});
afterAll(async () => {
  await locks?.end();
  await stack?.stop();
  await customer?.drop();
  proxy?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
});

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function settledRun(exportId: number): Promise<{ status: string; attempts: number; rowsWritten: number }> {
  return eventually(async () => {
    const [run] = (await stack.request(account, 'GET', `/api/v1/exports/${exportId}/runs`)).body as {
      status: string;
      attempts: number;
      rowsWritten: number;
    }[];
    return run && (run.status === 'succeeded' || run.status === 'failed') ? run : undefined;
  });
}

it('sends each continuation once the run is unlocked', async () => {
  for (let index = 0; index < 5; index += 1) await insertContact(stack.platform.db, account.accountId, { externalCustomerId: `follow-${index}` });
  const connectorId = await savePostgresConnector(stack.platform, account.accountId, customer);
  const created = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, datasets: ['contacts'], paused: true });
  // Other test files' open transactions would hold the pass's bound below these contacts.
  await platformSettled(stack.platform);
  await unlocked();
  await stack.request(account, 'POST', `/api/v1/exports/${created.body.id}/run`);

  expect(await settledRun(created.body.id)).toMatchObject({ status: 'succeeded', rowsWritten: 5 });
  // The run's first message, then a continuation after each of the first two chunks of two.
  expect(locksHeldAtSend.length).toBeGreaterThanOrEqual(3);
  expect(locksHeldAtSend.slice(1)).toEqual(locksHeldAtSend.slice(1).map(() => 0));
});

it('sends a retry once the run is unlocked', async () => {
  const connectorId = await savePostgresConnector(stack.platform, account.accountId, { ...customer, port: 1 });
  const created = await stack.request(account, 'POST', '/api/v1/exports', { connectorId, datasets: ['orders'], paused: true });
  await unlocked();
  await stack.request(account, 'POST', `/api/v1/exports/${created.body.id}/run`);

  expect(await settledRun(created.body.id)).toMatchObject({ status: 'failed', attempts: 2 });
  // The run's first message, then its one retry.
  expect(locksHeldAtSend).toEqual([0, 0]);
});
