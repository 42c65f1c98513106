/**
 * Run by test/adapters/xray-tracing.test.ts in a process of its own, with a Lambda's
 * environment (the X-Ray SDK reads it on load): a database statement that succeeds, one that
 * fails, one through pg-pool's callback path, and an SQS call, all through `XRayTracing`, whose
 * subsegments go to the X-Ray daemon address the test listens on.
 */
import { SQSClient, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { Client, Pool } from 'pg';
import { XRayTracing } from '../../shared/adapters/aws/xray-tracing';
import { tracedClient } from '../../shared/store/pool';

async function main(): Promise<void> {
  const tracing = new XRayTracing();
  const pool = new Pool({ connectionString: process.env.TRACED_DATABASE_URL, max: 1, Client: tracedClient(Client, tracing) });
  const client = await pool.connect();
  await client.query('SELECT 1 AS traced_statement');
  await client.query('SELECT * FROM no_such_table').catch(() => undefined);
  client.release();
  await pool.query('SELECT 2 AS through_the_pool');
  await pool.end();
  const sqs = tracing.instrumentAwsClient(
    new SQSClient({
      region: 'eu-west-1',
      endpoint: process.env.TRACED_SQS_ENDPOINT,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  await sqs.send(new ListQueuesCommand({}));
  process.stdout.write('done\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
