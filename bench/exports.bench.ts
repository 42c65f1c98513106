import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { createAccount } from '../shared/accounts/api-keys';
import { changedRowsSql, passUpperBound } from '../shared/exports/change-feed';
import { datasets, destinationColumns } from '../shared/exports/datasets';
import { exportToPostgres } from '../shared/exports/postgres-writer';
import { startBenchStack } from './services';

const ROWS = 1_000_000;
const CHUNK_ROWS = 50_000;

/**
 * 1,000,000 contactActivities rows from the platform into a customer PostgreSQL, through
 * the export writer (chunked COPY → temp table → upsert → cursor), next to a raw COPY of
 * the same SELECT into an empty table on the same server, and the worker's peak RSS.
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
    await db.query('ANALYZE contact_activities');
    for (const name of ['bench_export', 'bench_raw']) await db.query(`CREATE DATABASE ${name}`);

    const dataset = datasets.contactActivities;

    // Raw COPY of the same rows, same SELECT, into an empty table without keys.
    const raw = new Client({ connectionString: stack.postgresUrlFor('bench_raw') });
    await raw.connect();
    const definitions = destinationColumns(dataset).map((column) => `${raw.escapeIdentifier(column.name)} ${column.postgresType}`);
    await raw.query(`CREATE TABLE raw_copy (${definitions.join(', ')})`);
    const high = await passUpperBound(db);
    const rawStarted = process.hrtime.bigint();
    const reader = await db.connect();
    await pipeline(
      reader.query(copyTo(`COPY (${changedRowsSql(dataset, accountId, { xid: '0', id: -1 }, high, undefined)}) TO STDOUT`)),
      raw.query(copyFrom('COPY raw_copy FROM STDIN')),
    );
    reader.release();
    const rawSeconds = Number(process.hrtime.bigint() - rawStarted) / 1e9;
    const rawRows = Number((await raw.query<{ n: string }>('SELECT count(*) AS n FROM raw_copy')).rows[0]?.n);
    await raw.end();

    // The export writer, as the worker runs it.
    const destination = new Client({ connectionString: stack.postgresUrlFor('bench_export') });
    await destination.connect();
    const baseline = process.memoryUsage().rss;
    let peakRss = baseline;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    // One pass of the writer, as the worker runs it.
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
    const exportStarted = process.hrtime.bigint();
    const progress = await exportPass();
    const exportSeconds = Number(process.hrtime.bigint() - exportStarted) / 1e9;
    const exportedRows = Number((await destination.query<{ n: string }>(`SELECT count(*) AS n FROM public."contactActivities"`)).rows[0]?.n);

    // Every row changed again: the next pass upserts each one over its older version.
    await db.query(`UPDATE contact_activities SET activity_status = 'RECEIVED' WHERE account_id = $1`, [accountId]);
    const updateStarted = process.hrtime.bigint();
    const updated = await exportPass();
    const updateSeconds = Number(process.hrtime.bigint() - updateStarted) / 1e9;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await destination.end();
    if (updated.rowsWritten !== ROWS) throw new Error(`update pass wrote ${updated.rowsWritten} rows, not ${ROWS}`);

    if (rawRows !== ROWS || exportedRows !== ROWS || progress.rowsWritten !== ROWS) {
      throw new Error(`row counts differ: raw ${rawRows}, exported ${exportedRows}, reported ${progress.rowsWritten}`);
    }
    const exportRate = ROWS / exportSeconds;
    const rawRate = ROWS / rawSeconds;
    return {
      rows: ROWS,
      chunk_rows: CHUNK_ROWS,
      export_seconds: round(exportSeconds),
      export_rows_per_second: Math.round(exportRate),
      raw_copy_seconds: round(rawSeconds),
      raw_copy_rows_per_second: Math.round(rawRate),
      export_to_raw_copy_ratio: round(exportRate / rawRate),
      // The first pass copies straight into the new table; a pass over changed rows upserts.
      update_pass_seconds: round(updateSeconds),
      update_pass_rows_per_second: Math.round(ROWS / updateSeconds),
      update_pass_to_raw_copy_ratio: round(ROWS / updateSeconds / rawRate),
      worker_rss_before_mb: round(baseline / 1024 ** 2),
      worker_peak_rss_mb: round(peakRss / 1024 ** 2),
    };
  } catch (error) {
    process.stderr.write(`exports bench failed: ${String(error instanceof Error ? error.stack : error)}\n`);
    throw error;
  } finally {
    await stack.close();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
