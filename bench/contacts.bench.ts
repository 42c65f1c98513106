/**
 * Contacts on the local runtime, HTTP included: bulk add/update of 3000 contacts through the
 * imports queue and its consumer (created, then sent again renamed; three rounds), then single
 * add/update calls (each a new contact with an external ID and an email, then the same
 * contacts again, renamed; three rounds) from concurrent clients in their own process. Every
 * figure is the median of its rounds.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createAccount, issueApiKey } from '../shared/accounts/api-keys';
import { addOrUpdateContact } from '../shared/contacts/save-contact';
import { acrossRounds, load, median, numberOrUndefined, ratio, stackCpuUsPer, type LoadFigures } from './load';
import { startBenchStack } from './services';

const WARMUP = 2000;
const SINGLE_UPSERTS = 10000;
const CLIENTS = 8;
const ROUNDS = 3;
/**
 * PostgreSQL's own sizing advice (about two connections per core) for this 2-core machine;
 * more connections only add context switches between backends competing for the same cores.
 */
const POOL_SIZE = '4';
const BULK_CONTACTS = 3000;
const BASELINE_REQUESTS = 5000;
/** Issue 27's target for one add/update call: the stack's CPU (API process and PostgreSQL together). */
const TARGET_STACK_CPU_US_PER_CALL = 400;

export async function run(): Promise<Record<string, number | string>> {
  const stack = await startBenchStack({ RATE_LIMIT_PER_SECOND: '1000000', DB_POOL_SIZE: POOL_SIZE });
  try {
    const accountId = await createAccount(stack.platform.db, 'bench');
    const { key } = await issueApiKey(stack.platform.db, accountId, { name: 'bench' });
    const authorization = `Basic ${Buffer.from(`bench:${key}`).toString('base64')}`;
    const post = async (path: string, body: unknown): Promise<{ status: number; json: unknown }> => {
      const response = await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, json: await response.json() };
    };
    const contact = (index: number | string) => ({
      externalCustomerId: `bench-${index}`,
      firstName: `First ${index}`,
      channels: [{ type: 'email' as const, value: `bench${index}@example.com` }],
    });

    // Bulk add/update first, as a new install's first import: the worker's connection plans
    // its statements on near-empty tables, and those plans must still reach each contact by
    // key as the table grows (migration 612). Each round creates BULK_CONTACTS contacts, then
    // sends them again renamed (each an update found by external ID).
    const bulkImport = async (contacts: readonly object[]): Promise<{ status: string; seconds: number }> => {
      const started = performance.now();
      const queued = await post('/api/v1/contacts', { contacts, dedupeOn: 'externalCustomerId' });
      const sessionId = (queued.json as { asyncSessionId: string }).asyncSessionId;
      let status = '';
      for (let attempt = 0; attempt < 6000 && status !== 'FINISHED' && status !== 'FAILED'; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const response = await fetch(`${stack.url}/api/v1/importstatus/${sessionId}`, { headers: { authorization } });
        status = ((await response.json()) as { status: string }).status;
      }
      return { status, seconds: (performance.now() - started) / 1000 };
    };
    const bulkRounds: Record<'create' | 'update', BulkRound[]> = {
      create: [],
      update: [],
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const kind of ['create', 'update'] as const) {
        const contacts = Array.from({ length: BULK_CONTACTS }, (_, index) => {
          const given = contact(2_000_000 + round * BULK_CONTACTS + index);
          return kind === 'create' ? given : { ...given, firstName: `Renamed ${index}` };
        });
        let outcome = { status: '', seconds: 0 };
        const stackCpuUsPerContact = await stackCpuUsPer(BULK_CONTACTS, new Set(), async () => {
          outcome = await bulkImport(contacts);
        });
        bulkRounds[kind].push({ ...outcome, stackCpuUsPerContact });
      }
    }

    const bodyTemplate = JSON.stringify(contact('{i}'));
    const upserts = (requests: number, firstIndex: number, template = bodyTemplate) =>
      load({ url: `${stack.url}/api/v1/contact`, method: 'POST', authorization, requests, clients: CLIENTS, bodyTemplate: template, firstIndex });
    await upserts(WARMUP, 1_000_000);

    // Rounds, each of: the same clients on GET /api/v1/version (what HTTP, auth and the
    // machine cost alone, the yardstick measured in the same round), then new contacts, then
    // the same contacts sent again with a new first name: each of those calls finds its contact
    // by external ID and updates it, its email kept as it is. The machine's speed wanders from
    // one round to the next; every figure is the rounds' median with each round's beside it,
    // and the CPU figures are also given as a ratio to the same round's baseline.
    const baselines: LoadFigures[] = [];
    const creates: LoadFigures[] = [];
    const updates: LoadFigures[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      baselines.push(await load({ url: `${stack.url}/api/v1/version`, method: 'GET', authorization, requests: BASELINE_REQUESTS, clients: CLIENTS }));
      creates.push(await upserts(SINGLE_UPSERTS, round * SINGLE_UPSERTS));
      updates.push(await upserts(SINGLE_UPSERTS, round * SINGLE_UPSERTS, JSON.stringify({ ...contact('{i}'), firstName: 'Renamed {i}' })));
    }

    // The same add/update calls straight into the domain: what the database path costs alone.
    let nextDirect = 3_000_000;
    const directStarted = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (nextDirect < 3_000_000 + SINGLE_UPSERTS) {
          const index = nextDirect;
          nextDirect += 1;
          await addOrUpdateContact(stack.platform.db, accountId, contact(index));
        }
      }),
    );
    const directPerSecond = Math.round(SINGLE_UPSERTS / ((performance.now() - directStarted) / 1000));

    return {
      single_upserts: SINGLE_UPSERTS,
      rounds: ROUNDS,
      clients: CLIENTS,
      ...acrossRounds(
        'baseline_version_requests_per_second',
        baselines.map((figures) => figures.requestsPerSecond),
      ),
      ...acrossRounds(
        'baseline_version_stack_cpu_us_per_call',
        baselines.map((figures) => figures.stackCpuUsPerCall),
      ),
      ...acrossRounds(
        'baseline_version_postgres_cpu_us_per_call',
        baselines.map((figures) => figures.postgresCpuUsPerCall),
      ),
      ...acrossRounds(
        'baseline_version_generator_cpu_us_per_call',
        baselines.map((figures) => figures.generatorCpuUsPerCall),
      ),
      ...roundFigures('single', creates, baselines),
      ...roundFigures('update', updates, baselines),
      target_stack_cpu_us_per_call: TARGET_STACK_CPU_US_PER_CALL,
      domain_only_upserts_per_second: directPerSecond,
      bulk_contacts: BULK_CONTACTS,
      ...bulkFigures('create', bulkRounds.create),
      ...bulkFigures('update', bulkRounds.update),
    };
  } finally {
    await stack.close();
  }
}

/** One bulk import: how it ended, how long it took, and the stack's CPU per contact (undefined without /proc). */
interface BulkRound {
  readonly status: string;
  readonly seconds: number;
  readonly stackCpuUsPerContact: number | undefined;
}

/** One kind of bulk import's rounds: contacts/s and the stack's CPU per contact (the imports worker, PostgreSQL, the API and the status polls). */
function bulkFigures(kind: 'create' | 'update', rounds: readonly BulkRound[]) {
  return {
    [`bulk_${kind}_status`]: [...new Set(rounds.map((round) => round.status))].join(' / '),
    ...acrossRounds(
      `bulk_${kind}_contacts_per_second`,
      rounds.map((round) => Math.round(BULK_CONTACTS / round.seconds)),
    ),
    ...acrossRounds(
      `bulk_${kind}_stack_cpu_us_per_contact`,
      rounds.map((round) => round.stackCpuUsPerContact),
    ),
  };
}

/** The calls/s the stack's own CPU per call would allow on this machine's cores: an upper bound, as if nothing else ran. */
function cpuBound(stackCpuUsPerCall: number | undefined): number | string {
  return stackCpuUsPerCall === undefined ? 'n/a' : Math.round((availableParallelism() * 1_000_000) / stackCpuUsPerCall);
}

/** One kind of call's figures: each the median over the rounds (on its own, so no single round need hold them all), with every round's value and the worst p99 beside them. */
function roundFigures(kind: 'single' | 'update', rounds: readonly LoadFigures[], baselines: readonly LoadFigures[]): Record<string, number | string> {
  const cpu = rounds.map((round) => round.stackCpuUsPerCall);
  const cpuPerCall = cpu.every((value) => value !== undefined) ? median(cpu) : undefined;
  return {
    ...acrossRounds(
      `${kind}_upserts_per_second`,
      rounds.map((round) => round.requestsPerSecond),
    ),
    [`${kind}_p50_ms`]: median(rounds.map((round) => round.p50Ms)),
    [`${kind}_p99_ms`]: median(rounds.map((round) => round.p99Ms)),
    [`${kind}_p99_ms_worst_round`]: Math.max(...rounds.map((round) => round.p99Ms)),
    [`${kind}_failures`]: rounds.reduce((total, round) => total + round.failures, 0),
    ...acrossRounds(`${kind}_stack_cpu_us_per_call`, cpu),
    ...acrossRounds(
      `${kind}_postgres_cpu_us_per_call`,
      rounds.map((round) => round.postgresCpuUsPerCall),
    ),
    ...acrossRounds(
      `${kind}_generator_cpu_us_per_call`,
      rounds.map((round) => round.generatorCpuUsPerCall),
    ),
    // Against the same round's GET /version: what the call costs beyond HTTP and auth, in a unit the machine's load scales alike.
    ...acrossRounds(
      `${kind}_stack_cpu_ratio_to_baseline`,
      rounds.map((round, index) => numberOrUndefined(ratio(round.stackCpuUsPerCall, baselines[index]?.stackCpuUsPerCall))),
    ),
    [`${kind}_stack_cpu_bound_per_second`]: cpuBound(cpuPerCall),
    [`${kind}_meets_cpu_target`]: cpuPerCall === undefined ? 'n/a' : cpuPerCall <= TARGET_STACK_CPU_US_PER_CALL ? 'yes' : 'no',
  };
}
