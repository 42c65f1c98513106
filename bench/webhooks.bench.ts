/**
 * Activity webhooks, to a healthy receiver in its own process:
 * - throughput: every account records its transactions back to back; delivered activities
 *   per second from the first commit to the last POST received;
 * - latency at steady offered rates, up to the target rate: from an activity's recording
 *   transaction committing to its POST arriving, p50 and p99 (the median of three windows
 *   per rate, each window's p99 beside it). Latency under a burst is mostly
 *   queueing, so it is measured where the offered rate is known.
 */
import path from 'node:path';
import { startServiceProcess } from '../local/service-process';
import { createAccount, issueApiKey } from '../shared/accounts/api-keys';
import type { Platform } from '../shared/platform';
import { withTransaction } from '../shared/store/transaction';
import { publishRecordedActivities, relayWebhookOutbox } from '../shared/webhooks/outbox';
import { monotonicMs } from './monotonic';
import { acrossRounds, load, median, numberOrUndefined, ratio, rounded, stackCpuUsPer, type LoadFigures } from './load';
import { processCpuMs, stackCpuMsByRole, type StackRole } from './stack-cpu';
import { startBenchStack } from './services';

const ACCOUNTS = 8;
const ACTIVITIES_PER_TRANSACTION = 50;
/** 12,000 activities a round: a few seconds at the target rate, so the last batch's own latency is a small part of the window. */
const THROUGHPUT_TRANSACTIONS_PER_ACCOUNT = 30;
const BURST_ROUNDS = 3;
/** Issue 27's target: CPU of every stack process (API, relay, delivery, SQS server, PostgreSQL) per delivered activity. */
const TARGET_STACK_CPU_US_PER_ACTIVITY = 150;
const WARMUP_TRANSACTIONS_PER_ACCOUNT = 10;
/** Offered rates for the latency figures; the last is the issue's target rate. */
const STEADY_ACTIVITIES_PER_SECOND = [1_000, 5_000];
const STEADY_SECONDS = 6;
/**
 * Windows per offered rate, reported by their median with each window's p99 beside it: this
 * machine's speed wanders from one window to the next, and one window's p99 rests on its
 * slowest few transactions.
 */
const STEADY_WINDOWS = 3;

export async function run(): Promise<Record<string, number | string>> {
  const stack = await startBenchStack({ RATE_LIMIT_PER_SECOND: '1000000' });
  const receiver = await startReceiver();
  try {
    const accounts: number[] = [];
    let authorization = '';
    for (let index = 0; index < ACCOUNTS; index += 1) {
      const accountId = await createAccount(stack.platform.db, `Bench ${index}`);
      const { key } = await issueApiKey(stack.platform.db, accountId, { name: 'bench' });
      authorization = `Basic ${Buffer.from(`bench:${key}`).toString('base64')}`;
      const saved = await fetch(`${stack.url}/api/v1/webhook`, {
        method: 'PUT',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ url: receiver.url }),
      });
      if (saved.status !== 200) throw new Error(`could not set the webhook: ${saved.status}`);
      accounts.push(accountId);
    }
    const record = (accountId: number) => recordTransaction(stack.platform, accountId, receiver);

    // Warm-up: the pool's connections, the JIT, the receiver's keep-alive connections.
    await Promise.all(accounts.map((accountId) => recordInTurn(WARMUP_TRANSACTIONS_PER_ACCOUNT, () => record(accountId))));
    await receiver.drained();

    // Rounds, each of: the contacts bench's yardstick (GET /version: how fast the machine is
    // just now, and what one HTTP call costs the stack), then a burst, every account
    // recording its transactions back to back. The stack's CPU leaves the receiver's out; the
    // receiver's own is reported apart (it stands for the customer's endpoint).
    const burst = ACCOUNTS * THROUGHPUT_TRANSACTIONS_PER_ACCOUNT * ACTIVITIES_PER_TRANSACTION;
    const baselines: LoadFigures[] = [];
    const rates: number[] = [];
    const burstP99s: number[] = [];
    const stackCpu: (number | undefined)[] = [];
    const receiverCpu: (number | undefined)[] = [];
    const cpuByRole = new Map<StackRole, (number | undefined)[]>();
    for (let turn = 0; turn < BURST_ROUNDS; turn += 1) {
      baselines.push(await load({ url: `${stack.url}/api/v1/version`, method: 'GET', authorization, requests: 5000, clients: 8 }));
      receiver.resetLatencies();
      const receiverBefore = receiver.cpuMs();
      const started = monotonicMs();
      const rolesBefore = stackCpuMsByRole(receiver.pids);
      stackCpu.push(
        await stackCpuUsPer(burst, receiver.pids, async () => {
          await Promise.all(accounts.map((accountId) => recordInTurn(THROUGHPUT_TRANSACTIONS_PER_ACCOUNT, () => record(accountId))));
          await receiver.drained();
        }),
      );
      const rolesAfter = stackCpuMsByRole(receiver.pids);
      for (const role of new Set([...(rolesBefore?.keys() ?? []), ...(rolesAfter?.keys() ?? [])])) {
        const before = rolesBefore?.get(role);
        const after = rolesAfter?.get(role);
        const rounds = cpuByRole.get(role) ?? [];
        rounds.push(before === undefined || after === undefined ? undefined : Math.round(((after - before) * 1000) / burst));
        cpuByRole.set(role, rounds);
      }
      const throughput = await receiver.drained();
      const receiverAfter = receiver.cpuMs();
      receiverCpu.push(
        receiverBefore === undefined || receiverAfter === undefined ? undefined : Math.round(((receiverAfter - receiverBefore) * 1000) / burst),
      );
      rates.push(Math.round(burst / ((throughput.lastArrival - started) / 1000)));
      burstP99s.push(rounded(throughput.p99, 1));
    }

    const byRole: Record<string, number | string> = {};
    for (const [role, rounds] of cpuByRole) Object.assign(byRole, acrossRounds(`stack CPU µs per delivered activity: ${role}`, rounds));
    const knownStackCpu = stackCpu.filter((cpu): cpu is number => cpu !== undefined);
    const latencyFigures: Record<string, number | string> = {};
    for (const rate of STEADY_ACTIVITIES_PER_SECOND) {
      const windows: Drained[] = [];
      for (let window = 0; window < STEADY_WINDOWS; window += 1) windows.push(await offerSteadily(rate, accounts, record, receiver));
      latencyFigures[`at ${rate}/s: latency p50 ms (commit → POST)`] = rounded(median(windows.map((steady) => steady.p50)), 1);
      latencyFigures[`at ${rate}/s: latency p99 ms (commit → POST)`] = rounded(median(windows.map((steady) => steady.p99)), 1);
      latencyFigures[`at ${rate}/s: p99 ms by window`] = windows.map((steady) => rounded(steady.p99, 1)).join(' / ');
    }

    return {
      accounts: ACCOUNTS,
      'activities per transaction': ACTIVITIES_PER_TRANSACTION,
      'burst activities per round': burst,
      ...acrossRounds(
        'baseline GET /version requests/s (machine speed)',
        baselines.map((figures) => (figures.failures === 0 ? figures.requestsPerSecond : undefined)),
      ),
      ...acrossRounds(
        'baseline GET /version stack CPU µs per call',
        baselines.map((figures) => figures.stackCpuUsPerCall),
      ),
      ...acrossRounds('delivered activities/s', rates),
      ...acrossRounds('burst latency p99 ms (queueing included)', burstP99s),
      ...acrossRounds('stack CPU µs per delivered activity', stackCpu),
      ...acrossRounds('receiver CPU µs per delivered activity', receiverCpu),
      // Where the stack's CPU goes, by process: PostgreSQL; the API, recording and relay (this
      // process); delivery (the functions process); the SQS server.
      ...byRole,
      ...acrossRounds(
        'stack CPU per activity / baseline CPU per call',
        stackCpu.map((cpu, index) => numberOrUndefined(ratio(cpu, baselines[index]?.stackCpuUsPerCall))),
      ),
      'target stack CPU µs per delivered activity': TARGET_STACK_CPU_US_PER_ACTIVITY,
      'meets CPU target':
        knownStackCpu.length === stackCpu.length ? (median(knownStackCpu) <= TARGET_STACK_CPU_US_PER_ACTIVITY ? 'yes' : 'no') : 'n/a',
      ...latencyFigures,
    };
  } finally {
    await receiver.stop();
    await stack.close();
  }
}

/** One transaction every `interval` ms for a few seconds, the accounts taking turns; then waits for every POST. */
async function offerSteadily(
  rate: number,
  accounts: readonly number[],
  record: (accountId: number) => Promise<void>,
  receiver: Receiver,
): Promise<Drained> {
  receiver.resetLatencies();
  const interval = 1000 / (rate / ACTIVITIES_PER_TRANSACTION);
  const transactions = Math.round((STEADY_SECONDS * 1000) / interval);
  const started = monotonicMs();
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < transactions; index += 1) {
    const wait = started + index * interval - monotonicMs();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(record(accounts[index % accounts.length]!));
  }
  await Promise.all(inFlight);
  return receiver.drained();
}

async function recordInTurn(transactions: number, record: () => Promise<void>): Promise<void> {
  for (let index = 0; index < transactions; index += 1) await record();
}

/** Records one transaction of activities for the account and relays it after commit, as the API does. */
async function recordTransaction(platform: Platform, accountId: number, receiver: Receiver): Promise<void> {
  const iids = Array.from({ length: ACTIVITIES_PER_TRANSACTION }, () => crypto.randomUUID());
  await withTransaction(platform.db, async (client) => {
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO contact_activities (account_id, iid, activity_status, media_type, occurred_at, email, message_id, status_data)
       SELECT $1, iid, 'DELIVERED', 'email', now(), 'bench@example.com', 1, '{}'::jsonb FROM unnest($2::uuid[]) AS iid
       RETURNING id`,
      [accountId, iids],
    );
    await publishRecordedActivities(
      client,
      accountId,
      rows.map((row) => row.id),
    );
  });
  receiver.expect(iids, monotonicMs());
  await relayWebhookOutbox(platform, accountId);
}

interface Drained {
  readonly p50: number;
  readonly p99: number;
  readonly lastArrival: number;
}

interface Receiver {
  readonly url: string;
  /** Its process, left out of the stack's CPU. */
  readonly pids: ReadonlySet<number>;
  cpuMs(): number | undefined;
  expect(iids: readonly string[], committedAt: number): void;
  /** Resolves once every expected activity has arrived: its latency percentiles and the last arrival. */
  drained(): Promise<Drained>;
  resetLatencies(): void;
  stop(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const service = await startServiceProcess(path.join(__dirname, 'webhook-receiver-process.ts'));
  const { url } = JSON.parse(service.readyLine) as { url: string };
  const committed = new Map<string, number>();
  let latencies: number[] = [];
  let lastArrival = 0;
  let waiter: (() => void) | undefined;
  service.lines.on('line', (line) => {
    const [at, iids] = line.split(' ');
    const arrival = Number(at);
    lastArrival = Math.max(lastArrival, arrival);
    for (const iid of iids?.split(',') ?? []) {
      const commit = committed.get(iid);
      if (commit === undefined) continue;
      committed.delete(iid);
      latencies.push(arrival - commit);
    }
    if (committed.size === 0) waiter?.();
  });
  return {
    url,
    pids: new Set(service.pid === undefined ? [] : [service.pid]),
    cpuMs: () => (service.pid === undefined ? undefined : processCpuMs(service.pid)),
    expect: (iids, committedAt) => iids.forEach((iid) => committed.set(iid, committedAt)),
    drained: async () => {
      if (committed.size > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${committed.size} activities never arrived`)), 120_000);
          waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        waiter = undefined;
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
      return { p50: at(0.5), p99: at(0.99), lastArrival };
    },
    resetLatencies: () => {
      latencies = [];
    },
    stop: () => service.stop(),
  };
}
