/**
 * What a contact save costs the database alone, without HTTP: the CPU of the backends serving
 * `addOrUpdateContact` on 4 connections, per create and per update, against the same-run floor
 * of one round trip of the same shape (a `SELECT` of the save's 18 parameters, 8 of them
 * arrays, on the same connections). The difference is the save function's own work, the only
 * part of a save's database CPU that its SQL can change (bench/RESULTS.md, 7 December, sixth
 * pass). Three rounds; medians with every round beside them.
 */
import { Pool } from 'pg';
import { createAccount } from '../shared/accounts/api-keys';
import { addOrUpdateContact } from '../shared/contacts/save-contact';
import { acrossRounds, ratio } from './load';
import { startBenchStack } from './services';
import { processCpuMs } from './stack-cpu';

const CONNECTIONS = 4;
const WARMUP = 500;
const CALLS_PER_ROUND = 4_000;
const ROUNDS = 3;
const APPLICATION_NAME = 'save-function-bench';

/** A save's round trip with the function taken out: the same 18 parameters, bound and sent back as one value. */
const ROUND_TRIP = {
  name: 'save-round-trip',
  text: `SELECT ($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::jsonb, $9::text[], $10::text, $11::boolean,
    $12::text[], $13::text[], $14::int[], $15::text[], $16::text[], $17::text[], $18::smallint[]) IS NULL AS id`,
};

export async function run(): Promise<Record<string, number | string>> {
  const stack = await startBenchStack();
  const pool = new Pool({ connectionString: stack.postgresUrlFor('postgres'), max: CONNECTIONS, application_name: APPLICATION_NAME });
  try {
    const accountId = await createAccount(pool, 'bench');
    // Every connection opened before the backends are named: the pool only opens them under load.
    const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.connect()));
    clients.forEach((client) => client.release());
    const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [APPLICATION_NAME]);
    const backends = rows.map((row) => row.pid);
    const backendCpuMs = () => backends.reduce((total, pid) => total + (processCpuMs(pid) ?? 0), 0);

    /** Backend CPU µs per call of `call(index)` over `count` calls from CONNECTIONS callers. */
    const perCall = async (count: number, call: (index: number) => Promise<unknown>): Promise<number> => {
      let next = 0;
      const before = backendCpuMs();
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          for (let index = next++; index < count; index = next++) await call(index);
        }),
      );
      return Math.round(((backendCpuMs() - before) * 1000) / count);
    };
    const save = (key: string, firstName: string) =>
      addOrUpdateContact(pool, accountId, { externalCustomerId: key, firstName, channels: [{ type: 'email', value: `${key}@example.com` }] });
    const roundTrip = (key: string) => {
      const email = `${key}@example.com`;
      const values = [
        accountId,
        key,
        'First',
        null,
        null,
        null,
        null,
        '{}',
        [],
        'API',
        true,
        ['email'],
        [email],
        [0],
        ['email'],
        [email],
        [email],
        [0],
      ];
      return pool.query({ ...ROUND_TRIP, values });
    };

    await perCall(WARMUP, (index) => save(`warm-${index}`, 'First'));
    await perCall(WARMUP, (index) => roundTrip(`warm-${index}`));
    const creates: number[] = [];
    const updates: number[] = [];
    const floors: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      creates.push(await perCall(CALLS_PER_ROUND, (index) => save(`r${round}-${index}`, 'First')));
      updates.push(await perCall(CALLS_PER_ROUND, (index) => save(`r${round}-${index}`, 'Renamed')));
      floors.push(await perCall(CALLS_PER_ROUND, (index) => roundTrip(`r${round}-${index}`)));
    }
    const create = acrossRounds('create_backend_cpu_us_per_call', creates);
    const update = acrossRounds('update_backend_cpu_us_per_call', updates);
    const floor = acrossRounds('round_trip_backend_cpu_us_per_call', floors);
    const median = (figures: Record<string, number | string>, name: string) => figures[name] as number;
    const floorUs = median(floor, 'round_trip_backend_cpu_us_per_call');
    return {
      ...create,
      ...update,
      ...floor,
      create_function_work_us_per_call: median(create, 'create_backend_cpu_us_per_call') - floorUs,
      update_function_work_us_per_call: median(update, 'update_backend_cpu_us_per_call') - floorUs,
      create_to_round_trip_ratio: ratio(median(create, 'create_backend_cpu_us_per_call'), floorUs),
      update_to_round_trip_ratio: ratio(median(update, 'update_backend_cpu_us_per_call'), floorUs),
    };
  } finally {
    await pool.end();
    await stack.close();
  }
}
