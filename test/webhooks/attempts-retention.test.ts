import { createHandler as createPrune } from '../../functions/prune-webhook-attempts/handler';
import { lambdaContext } from '../../local/lambda-context';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

const DAY_MS = 24 * 3600 * 1000;
const hourly = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { WEBHOOK_ATTEMPT_RETENTION_DAYS: '30' } });
});
afterAll(() => stack.stop());

/** Attempts as the dispatcher logs them, made `ageMs` ago. */
async function attemptsMade(account: TestAccount, ageMs: number, count = 1): Promise<void> {
  await stack.platform.db.query(
    `INSERT INTO webhook_attempts (account_id, attempted_at, webhook_id, activity_count, delivered, status_code, latency_ms)
     SELECT $1, now() - make_interval(secs => $2::double precision / 1000), 'msg_' || n, 1, true, 200, 12
       FROM generate_series(1, $3::int) AS n`,
    [account.accountId, ageMs, count],
  );
}

async function attemptAges(account: TestAccount): Promise<number[]> {
  const response = await stack.request(account, 'GET', '/api/v1/webhook/attempts?limit=500');
  expect(response.status).toBe(200);
  const now = Date.now();
  return (response.body.attempts as { attemptedAt: string }[]).map((attempt) => Math.round((now - Date.parse(attempt.attemptedAt)) / DAY_MS));
}

async function attemptsLeft(account: TestAccount): Promise<number> {
  const { rows } = await stack.platform.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_attempts WHERE account_id = $1', [
    account.accountId,
  ]);
  return rows[0]!.n;
}

it('deletes the attempts older than the retention period and keeps the others, for every account', async () => {
  const first = await stack.createAccount();
  const second = await stack.createAccount();
  await attemptsMade(first, 31 * DAY_MS, 3);
  await attemptsMade(first, 29 * DAY_MS);
  await attemptsMade(second, 40 * DAY_MS, 2);
  await attemptsMade(second, 3600 * 1000);

  await createPrune(stack.platform)(hourly, lambdaContext('prune-webhook-attempts', 300_000));

  expect(await attemptAges(first)).toEqual([29]);
  expect(await attemptAges(second)).toEqual([0]);
});

it('works through a backlog in batches, and leaves what it has no time for to the next run', async () => {
  const account = await stack.createAccount();
  await attemptsMade(account, 45 * DAY_MS, 12_000);
  await attemptsMade(account, DAY_MS, 2);

  // Less time left than the function keeps in reserve: one batch, then it stops.
  await createPrune(stack.platform)(hourly, lambdaContext('prune-webhook-attempts', 1_000));
  const afterShortRun = await attemptsLeft(account);
  expect(afterShortRun).toBeLessThan(12_002);
  expect(afterShortRun).toBeGreaterThan(2);

  await createPrune(stack.platform)(hourly, lambdaContext('prune-webhook-attempts', 300_000));
  expect(await attemptsLeft(account)).toBe(2);
});
