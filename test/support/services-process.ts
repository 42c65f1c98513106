/**
 * Runs in its own process for the whole test run: one embedded PostgreSQL (with a migrated
 * template database that each test file clones) and one SQS-protocol server. Prints their
 * addresses as one JSON line, then stays up until its parent closes stdin or signals it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { startEmbeddedPostgres } from '../../local/embedded-postgres';
import { serveUntilParentLeaves } from '../../local/service-process';
import { startSqsServer } from '../../local/sqs-server';
import { migrate } from '../../shared/store/migrate';
import { migrations } from '../../shared/store/migrations';

export const TEMPLATE_DATABASE = 'satellite_template';

async function main(): Promise<void> {
  const base = mkdtempSync(path.join(tmpdir(), 'satellite-test-'));
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(base, 'data'), persistent: false });
  const sqs = await startSqsServer();

  const admin = new Pool({ connectionString: postgres.url, max: 1 });
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();
  const template = new Pool({ connectionString: postgres.urlFor(TEMPLATE_DATABASE), max: 2 });
  await migrate(template, migrations);
  await template.end();

  process.stdout.write(`${JSON.stringify({ postgresUrl: postgres.url, postgresPort: postgres.port, sqsEndpoint: sqs.endpoint })}\n`);

  serveUntilParentLeaves(async () => {
    await sqs.stop().catch(() => undefined);
    await postgres.stop().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`test services failed to start: ${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
