import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { seedDemo } from './demo';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres';
import { startSmtpSink } from './smtp-sink';
import { startTextSink } from './text-sink';
import { startSqsServer } from './sqs-server';
import { startLocalRuntime } from './stack';

// Lambda runs Node 22; the SDK's notice about this machine's Node 20 is noise locally.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const stateDir = path.resolve(process.env.SATELLITE_STATE_DIR ?? '.satellite');

/** `npm start`: the whole stack on this machine, on embedded defaults. */
async function main(): Promise<void> {
  mkdirSync(stateDir, { recursive: true });
  let postgres: RunningPostgres | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(stateDir, 'postgres', 'data'),
      persistent: true,
      port: process.env.PG_PORT ? Number(process.env.PG_PORT) : undefined,
    });
    databaseUrl = postgres.socketUrlFor('postgres');
  }
  const sqs = await startSqsServer(Number(process.env.SQS_PORT ?? 0));
  // Every email the local stack sends lands here (GET /local/mailbox shows them).
  const sink = await startSmtpSink({ smtpPort: Number(process.env.SMTP_SINK_PORT ?? 0) });
  // Every SMS (in AWS End User Messaging's wire format) and Viber message lands here.
  const texts = await startTextSink(Number(process.env.TEXT_SINK_PORT ?? 0));
  const stack = await startLocalRuntime({
    databaseUrl,
    sqsEndpoint: sqs.endpoint,
    queuePrefix: 'satellite-',
    port: Number(process.env.PORT ?? 3000),
    secretsKey: process.env.SATELLITE_SECRETS_KEY ?? persistentValue('secrets.key', () => randomBytes(32).toString('base64url')),
    env: {
      // PUBLIC_BASE_URL defaults to the address the API listens on (behind a proxy, set it).
      ...(process.env.PUBLIC_BASE_URL ? { PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL } : {}),
      SMTP_URL: process.env.SMTP_URL ?? sink.smtpUrl,
      LOCAL_MAILBOX_URL: sink.mailboxUrl,
      EMAIL_DEFAULT_FROM: process.env.EMAIL_DEFAULT_FROM ?? 'demo@satellite.localhost',
      EMAIL_SEND_RATE_PER_SECOND: process.env.EMAIL_SEND_RATE_PER_SECOND ?? '1000',
      SMS_API_ENDPOINT: process.env.SMS_API_ENDPOINT ?? texts.url,
      VIBER_API_ENDPOINT: process.env.VIBER_API_ENDPOINT ?? texts.url,
      SMS_SENDER_IDS: process.env.SMS_SENDER_IDS ?? 'Satellite',
    },
  });
  const demo = await seedDemo(stack.platform, {
    apiKey: process.env.SATELLITE_API_KEY ?? persistentValue('demo-api-key', () => `sk_demo_${randomBytes(18).toString('base64url')}`),
    user: {
      email: process.env.SATELLITE_DEMO_EMAIL ?? 'demo@example.com',
      password: process.env.SATELLITE_DEMO_PASSWORD ?? persistentValue('demo-password', () => randomBytes(12).toString('base64url')),
    },
  });

  const lines = [
    '',
    'Satellite is running locally.',
    `  Console        ${stack.url}/   (sign in with the demo login below)`,
    `  API            ${stack.url}/api/v1/version`,
    `  Demo account   #${demo.accountId}`,
    `  API key        ${demo.apiKey}   (HTTP Basic: any user name, the key as password)`,
    `  Try            curl -u demo:${demo.apiKey} ${stack.url}/api/v1/version`,
    `  Demo login     ${demo.user.email} / ${demo.user.password}   (the console at ${stack.url}/, and the OAuth consent page, ${stack.url}/oauth/authorize)`,
    `  API reference  ${stack.url}/docs   (OpenAPI 3.1: ${stack.url}/api/v1/openapi.json)`,
    `  The story      npm run demo   (in another terminal: the seeds' story, step by step, against this stack)`,
    `  Database       ${postgres ? `embedded PostgreSQL on 127.0.0.1:${postgres.port} (data in ${path.relative(process.cwd(), stateDir)}/postgres)` : 'DATABASE_URL'}`,
    `  SQS            ${sqs.endpoint}`,
    `  SMTP sink      ${sink.smtpUrl}   (what was sent: ${stack.url}/local/mailbox)`,
    `  SMS/Viber sink ${texts.url}   (what was sent: ${texts.url}/messages)`,
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping…\n');
    await stack.stop();
    await sqs.stop();
    await sink.stop();
    await texts.stop();
    await postgres?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

/** A value generated once and kept in the state folder, so restarts reuse it. */
function persistentValue(file: string, generate: () => string): string {
  const location = path.join(stateDir, file);
  if (existsSync(location)) return readFileSync(location, 'utf8').trim();
  const value = generate();
  writeFileSync(location, `${value}\n`, { mode: 0o600 });
  return value;
}

main().catch((error: unknown) => {
  process.stderr.write(`Satellite could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
