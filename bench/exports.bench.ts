import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { createAccount } from '../shared/accounts/api-keys';
import { changedRowsSql, passUpperBound } from '../shared/exports/change-feed';
import { datasets, destinationColumns } from '../shared/exports/datasets';
import { exportToPostgres } from '../shared/exports/postgres-writer';
import { figureByRound, rounded } from './load';
import { startBenchStack } from './services';
import { stackCpuMs } from './stack-cpu';

const ROWS = 1_000_000;
const CHUNK_ROWS = 50_000;

const ROUNDS = 3;

interface PassFigures {
  readonly seconds: number;
  /** CPU the stack spent (this process, which runs the writer as the worker would, and PostgreSQL's processes), µs per row; undefined without /proc. */
  readonly cpuUsPerRow: number | undefined;
}

/**
 * 1,000,000 contactActivities rows from the platform into a customer PostgreSQL, through
 * the export writer (chunked COPY → temp table → upsert → cursor), next to a raw COPY of
 * the same SELECT into an empty table on the same server (the same round's baseline), then a
 * pass over every row changed again, and the worker's peak RSS. Three rounds, each into fresh
 * destination databases; each figure is the median with every round and the spread. The
 * writer runs in this process, as in the worker: there is no load generator to keep apart.
 */
export async function run(): Promise<Record<string, number | string>> {
  const stack = await startBenchStack();
  try {
    const db = stack.platform.db;
    const accountId = await createAccount(db, 'Bench');
    await db.query(
      `INSERT INTO contact_activities (account_id, activity_status, media_type, occurred_at, external_customer_id, message_id,
         message_instance_id, message_name, message_tags, message_url, broadcast_id, campaign_type, click_event_link,
         status_description, sender_name, utm_campaign, workflow_id, workflow_block_id, workflow_instance_id)
       SELECT $1, (ARRAY['DELIVERED','RECEIVED','CLICKED','UNDELIVERED'])[1 + n % 4], 'Email',
              timestamptz '2024-01-01 00:00:00+00' + n * interval '1 second', 'ext-' || (n % 50000), 1000 + n % 20,
              n, 'Autumn sale', 'promo,autumn', 'https://example.com/web/' || n, 2000 + n % 7, 'Group',
              CASE WHEN n % 4 = 2 THEN 'https://shop.example.com/p/' || n END,
              CASE WHEN n % 4 = 3 THEN '550 mailbox unavailable' END, 'Shop', 'autumn-2024', 12, 'block-3', 'wi-' || (n % 1000)
         FROM generate_series(1, $2) AS n`,
      [accountId, ROWS],
    );
    await db.query('VACUUM ANALYZE contact_activities');
    const dataset = datasets.contactActivities;

    const measure = async (work: () => Promise<void>): Promise<PassFigures> => {
      const cpuBefore = stackCpuMs(new Set());
      const started = process.hrtime.bigint();
      await work();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpuAfter = stackCpuMs(new Set());
      return { seconds, cpuUsPerRow: cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / ROWS };
    };
    const baselineRss = process.memoryUsage().rss;
    let peakRss = baselineRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);

    const rounds: { raw: PassFigures; first: PassFigures; update: PassFigures }[] = [];
    for (let index = 0; index < ROUNDS; index += 1) {
      const rawDatabase = `bench_raw_${index}`;
      const exportDatabase = `bench_export_${index}`;
      for (const name of [rawDatabase, exportDatabase]) await db.query(`CREATE DATABASE ${name}`);

      // Raw COPY of the same rows, same SELECT, into an empty table without keys.
      const raw = new Client({ connectionString: stack.postgresUrlFor(rawDatabase) });
      await raw.connect();
      const definitions = destinationColumns(dataset).map((column) => `${raw.escapeIdentifier(column.name)} ${column.postgresType}`);
      await raw.query(`CREATE TABLE raw_copy (${definitions.join(', ')})`);
      const high = await passUpperBound(db);
      const rawPass = await measure(async () => {
        const reader = await db.connect();
        try {
          await pipeline(
            reader.query(copyTo(`COPY (${changedRowsSql(dataset, accountId, { xid: '0', id: -1 }, high, undefined)}) TO STDOUT`)),
            raw.query(copyFrom('COPY raw_copy FROM STDIN')),
          );
        } finally {
          reader.release();
        }
      });
      const rawRows = Number((await raw.query<{ n: string }>('SELECT count(*) AS n FROM raw_copy')).rows[0]?.n);
      await raw.end();

      // The export writer, as the worker runs it: a first pass into a new table, then a pass
      // over every row changed again, which upserts each one over its older version.
      const destination = new Client({ connectionString: stack.postgresUrlFor(exportDatabase) });
      await destination.connect();
      const exportPass = () =>
        exportToPostgres({
          source: db,
          destination,
          schema: 'public',
          dataset,
          exportId: 1,
          accountId,
          chunkRows: CHUNK_ROWS,
          hasTimeLeft: () => true,
        });
      let firstWritten = 0;
      const first = await measure(async () => {
        firstWritten = (await exportPass()).rowsWritten;
      });
      const exportedRows = Number((await destination.query<{ n: string }>(`SELECT count(*) AS n FROM public."contactActivities"`)).rows[0]?.n);
      await db.query(`UPDATE contact_activities SET activity_status = 'RECEIVED' WHERE account_id = $1`, [accountId]);
      // The dead versions go before the pass is timed, as autovacuum would take them anyway.
      await db.query('VACUUM ANALYZE contact_activities');
      let updateWritten = 0;
      const update = await measure(async () => {
        updateWritten = (await exportPass()).rowsWritten;
      });
      await destination.end();
      for (const name of [rawDatabase, exportDatabase]) await db.query(`DROP DATABASE ${name}`);
      if (rawRows !== ROWS || exportedRows !== ROWS || firstWritten !== ROWS || updateWritten !== ROWS) {
        throw new Error(`row counts differ: raw ${rawRows}, exported ${exportedRows}, reported ${firstWritten}, update pass ${updateWritten}`);
      }
      rounds.push({ raw: rawPass, first, update });
    }
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);

    const figure = figureByRound(rounds);
    const perSecond = (pass: PassFigures) => ROWS / pass.seconds;
    const cpuRatio = (pass: PassFigures, raw: PassFigures) =>
      pass.cpuUsPerRow === undefined || raw.cpuUsPerRow === undefined ? undefined : pass.cpuUsPerRow / raw.cpuUsPerRow;
    return {
      rows: ROWS,
      chunk_rows: CHUNK_ROWS,
      ...figure('raw_copy_rows_per_second', (round) => perSecond(round.raw), 0),
      ...figure('export_rows_per_second', (round) => perSecond(round.first), 0),
      ...figure('export_to_raw_copy_ratio', (round) => perSecond(round.first) / perSecond(round.raw), 2),
      // The first pass copies straight into the new table; a pass over changed rows upserts.
      ...figure('update_pass_rows_per_second', (round) => perSecond(round.update), 0),
      ...figure('update_pass_to_raw_copy_ratio', (round) => perSecond(round.update) / perSecond(round.raw), 2),
      ...figure('raw_copy_stack_cpu_us_per_row', (round) => round.raw.cpuUsPerRow, 2),
      ...figure('export_stack_cpu_us_per_row', (round) => round.first.cpuUsPerRow, 2),
      ...figure('export_to_raw_copy_cpu_ratio', (round) => cpuRatio(round.first, round.raw), 2),
      ...figure('update_pass_stack_cpu_us_per_row', (round) => round.update.cpuUsPerRow, 2),
      ...figure('update_pass_to_raw_copy_cpu_ratio', (round) => cpuRatio(round.update, round.raw), 2),
      worker_rss_before_mb: rounded(baselineRss / 1024 ** 2, 2),
      worker_peak_rss_mb: rounded(peakRss / 1024 ** 2, 2),
    };
  } catch (error) {
    process.stderr.write(`exports bench failed: ${String(error instanceof Error ? error.stack : error)}\n`);
    throw error;
  } finally {
    await stack.close();
  }
}
