import { randomBytes } from 'node:crypto';
import { startLocalRuntime, type LocalRuntime } from '../../local/stack';
import { createAccount, issueApiKey } from '../../shared/accounts/api-keys';
import { createTestDatabase } from '../support/stack';
import { waitUntil } from '../support/wait-until';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let runtime: LocalRuntime;
beforeAll(async () => {
  database = await createTestDatabase('rt');
  runtime = await startLocalRuntime({
    databaseUrl: database.url,
    sqsEndpoint: process.env.SATELLITE_TEST_SQS_ENDPOINT ?? '',
    queuePrefix: `${database.name}-`,
    port: 0,
    secretsKey: randomBytes(32).toString('base64url'),
  });
});
afterAll(async () => {
  await runtime.stop();
  await database.drop();
});

it('runs the queue consumers in their own process, as npm start does: a bulk import queued through the API finishes', async () => {
  const accountId = await createAccount(runtime.platform.db, 'runtime');
  const { key } = await issueApiKey(runtime.platform.db, accountId, { name: 'runtime' });
  const headers = { authorization: `Basic ${Buffer.from(`runtime:${key}`).toString('base64')}`, 'content-type': 'application/json' };
  const queued = await fetch(`${runtime.url}/api/v1/contacts`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ contacts: [{ externalCustomerId: 'rt-1' }, { externalCustomerId: 'rt-2' }], dedupeOn: 'externalCustomerId' }),
  });
  expect(queued.status).toBe(200);
  const { asyncSessionId } = (await queued.json()) as { asyncSessionId: string };

  let status = '';
  await waitUntil(
    async () => {
      const response = await fetch(`${runtime.url}/api/v1/importstatus/${asyncSessionId}`, { headers });
      status = ((await response.json()) as { status: string }).status;
      return status === 'FINISHED' || status === 'FAILED';
    },
    'the import finishing',
    30_000,
  );
  expect(status).toBe('FINISHED');
  const { rows } = await runtime.platform.db.query('SELECT count(*)::int AS n FROM contacts WHERE account_id = $1', [accountId]);
  expect(rows[0].n).toBe(2);
});

it('names its own address as the OAuth issuer when PUBLIC_BASE_URL is not set, whatever port it got', async () => {
  const response = await fetch(`${runtime.url}/.well-known/oauth-authorization-server`);
  expect(((await response.json()) as { issuer: string }).issuer).toBe(runtime.url);
});
