/**
 * Trigger-event assembly for a 100,000-contact segment with one external PostgreSQL source
 * (the seed's promo_codes): contacts/s of jsonParam assembly (contact keys, one batched
 * lookup per page, params), and of whole pages (assembly + events and ledger stored), in
 * rounds (each on its own slice of the segment and, for whole pages, its own day), each
 * reported with its CPU per contact (every stack process: this one and PostgreSQL) and whole
 * pages as a ratio to assembly alone in the same round.
 * Targets: assembly ≥ 20,000 contacts/s; whole pages ≥ 20,000 contacts/s (issue 27).
 */
import { Pool } from 'pg';
import { createAccount } from '../shared/accounts/api-keys';
import { closeConnectorPools } from '../shared/connectors/postgres-pools';
import { createConnector } from '../shared/connectors/connector-store';
import { createSource } from '../shared/sources/sources';
import { assembleEvents, assemblePage, PAGE_SIZE } from '../shared/trigger-events/assemble';
import { createRegularWorkflow } from '../shared/trigger-events/workflows';
import { acrossRounds, numberOrUndefined, ratio, stackCpuUsPer } from './load';
import { startBenchStack } from './services';

const CONTACTS = 100_000;
const ROUNDS = 3;
const CONTACTS_PER_ROUND = 30_000;
const TARGET_CONTACTS_PER_SECOND = 20_000;

export async function run(): Promise<Record<string, number | string>> {
  const stack = await startBenchStack();
  try {
    const { platform } = stack;
    const adminUrl = new URL(stack.postgresUrlFor('postgres'));
    const server = new Pool({ connectionString: adminUrl.toString(), max: 1 });
    await server.query('CREATE DATABASE bench_customer');
    await server.end();
    const customer = new Pool({ connectionString: stack.postgresUrlFor('bench_customer'), max: 1 });
    await customer.query(`
      CREATE TABLE promo_codes (id integer, email text PRIMARY KEY, name text, birthday timestamptz, promo_code text);
      INSERT INTO promo_codes
      SELECT i, 'contact' || i || '@example.com', 'Name ' || i, timestamptz '2020-09-02 00:00:00Z' - (i || ' days')::interval, 'CODE-' || i
        FROM generate_series(1, ${CONTACTS}) i;
      ANALYZE promo_codes;
    `);
    await customer.end();

    const accountId = await createAccount(platform.db, 'Bench');
    await platform.db.query(
      `WITH created AS (
         INSERT INTO contacts (account_id, first_name) SELECT $1, 'Contact ' || i FROM generate_series(1, ${CONTACTS}) i RETURNING id
       ), numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM created)
       INSERT INTO contact_channels (account_id, contact_id, type, value, normalized)
       SELECT $1, id, 'email', 'contact' || n || '@example.com', 'contact' || n || '@example.com' FROM numbered`,
      [accountId],
    );
    await platform.db.query('ANALYZE contacts, contact_channels');
    const { rows: ids } = await platform.db.query<{ id: number }>('SELECT id FROM contacts WHERE account_id = $1 ORDER BY id', [accountId]);
    const contactIds = ids.map((row) => row.id);

    const connector = await createConnector(platform, accountId, {
      kind: 'postgres',
      name: 'Bench warehouse',
      host: adminUrl.hostname,
      port: Number(adminUrl.port),
      database: 'bench_customer',
      user: decodeURIComponent(adminUrl.username),
      password: decodeURIComponent(adminUrl.password),
      sslMode: 'disable',
      schema: 'public',
      uniqueKey: { column: 'email', contactField: 'email' },
    });
    const source = await createSource(platform, accountId, {
      connectorId: connector.id,
      dataset: 'public',
      table: 'promo_codes',
      name: 'promo_codes',
    });
    const { rows: segments } = await platform.db.query<{ id: number }>(
      `INSERT INTO segments (account_id, name, conditions) VALUES ($1, 'Everyone', $2::jsonb) RETURNING id`,
      [accountId, JSON.stringify([{ source: source.id, column: 'promo_code', operator: 'isNotEmpty' }])],
    );
    const workflow = await createRegularWorkflow(platform, accountId, {
      name: 'Bench',
      segmentId: segments[0]!.id,
      sourceIds: [source.id],
      schedule: 'rate(1 day)',
      enabled: true,
    });

    const assemblyRates: number[] = [];
    const pageRates: number[] = [];
    const assemblyCpu: (number | undefined)[] = [];
    const pageCpu: (number | undefined)[] = [];
    let assembled = 0;
    let emitted = 0;
    let sampleJson = '';
    for (let turn = 0; turn < ROUNDS; turn += 1) {
      const slice = contactIds.slice(turn * CONTACTS_PER_ROUND, (turn + 1) * CONTACTS_PER_ROUND);
      // jsonParam assembly: every page's contact keys, one lookup, params for each member.
      let started = process.hrtime.bigint();
      assemblyCpu.push(
        await stackCpuUsPer(slice.length, new Set(), async () => {
          for (let start = 0; start < slice.length; start += PAGE_SIZE) {
            const events = await assembleEvents(platform, accountId, workflow, slice.slice(start, start + PAGE_SIZE));
            assembled += events.length;
            sampleJson ||= events[0]?.params.find((param) => param.name === 'jsonParam')?.value ?? '';
          }
        }),
      );
      assemblyRates.push(Math.round(slice.length / (Number(process.hrtime.bigint() - started) / 1e9)));

      // Whole pages as the queue consumer runs them: assembly plus events and ledger in the store.
      started = process.hrtime.bigint();
      pageCpu.push(
        await stackCpuUsPer(slice.length, new Set(), async () => {
          for (let start = 0; start < slice.length; start += PAGE_SIZE) {
            const outcome = await assemblePage(platform, {
              accountId,
              workflowId: workflow.id,
              day: `2026-09-0${turn + 1}`,
              contactIds: slice.slice(start, start + PAGE_SIZE),
            });
            emitted += outcome.emitted;
          }
        }),
      );
      pageRates.push(Math.round(slice.length / (Number(process.hrtime.bigint() - started) / 1e9)));
    }
    JSON.parse(sampleJson);
    await closeConnectorPools(platform);

    const pageRate = acrossRounds('pages_with_storage_contacts_per_s', pageRates);
    return {
      segment_contacts: CONTACTS,
      contacts_per_round: CONTACTS_PER_ROUND,
      assembled_events: assembled,
      emitted_events: emitted,
      ...acrossRounds('assembly_contacts_per_s', assemblyRates),
      ...pageRate,
      ...acrossRounds(
        'pages_to_assembly_rate_ratio',
        pageRates.map((rate, index) => numberOrUndefined(ratio(rate, assemblyRates[index]))),
      ),
      ...acrossRounds('assembly_stack_cpu_us_per_contact', assemblyCpu),
      ...acrossRounds('pages_with_storage_stack_cpu_us_per_contact', pageCpu),
      ...acrossRounds(
        'pages_to_assembly_cpu_ratio',
        pageCpu.map((cpu, index) => numberOrUndefined(ratio(cpu, assemblyCpu[index]))),
      ),
      sample_json_param_chars: sampleJson.length,
      target: `assembly and whole pages >= ${TARGET_CONTACTS_PER_SECOND} contacts/s`,
      meets_target:
        typeof pageRate.pages_with_storage_contacts_per_s === 'number' && pageRate.pages_with_storage_contacts_per_s >= TARGET_CONTACTS_PER_SECOND
          ? 'yes'
          : 'no',
    };
  } finally {
    await stack.close();
  }
}
