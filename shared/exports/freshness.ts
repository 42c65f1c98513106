import type { Platform } from '../platform';

/**
 * When an export's schedule fires, the datasets whose latest run has not succeeded are
 * overdue: the customer's table is older than the export's interval promises. Counted as a
 * metric (`ExportDatasetsOverdue`), which alarms.
 */
export async function countOverdueDatasets(platform: Platform, exportId: number): Promise<number> {
  const { rows } = await platform.db.query<{ overdue: number }>(
    `SELECT count(*)::int AS overdue
       FROM (SELECT DISTINCT ON (dataset) status FROM export_runs WHERE export_id = $1 ORDER BY dataset, id DESC) latest
      WHERE status <> 'succeeded'`,
    [exportId],
  );
  const overdue = rows[0]?.overdue ?? 0;
  platform.metrics.add('ExportDatasetsOverdue', overdue);
  return overdue;
}
