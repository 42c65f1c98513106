import type { Platform } from '../platform';

/** Counts the contacts a finished import created or updated (once the job says FINISHED). */
export async function countFinishedImport(platform: Platform, jobId: string): Promise<void> {
  const { rows } = await platform.db.query<{ imported: number }>(
    `SELECT created + updated AS imported FROM contact_import_jobs WHERE id = $1 AND status = 'FINISHED'`,
    [jobId],
  );
  if (rows[0]) platform.metrics.add('ContactsImported', Number(rows[0].imported));
}
