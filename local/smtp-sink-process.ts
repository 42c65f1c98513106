/**
 * Entry point of the SMTP sink's own process (see `startSmtpSink`): prints its SMTP port and
 * mailbox URL as one JSON line, then serves until its parent closes stdin or signals it.
 */
import { serveUntilParentLeaves } from './service-process';
import { startSmtpSinkServer } from './smtp-sink';

async function main(): Promise<void> {
  const sink = await startSmtpSinkServer({ smtpPort: Number(process.argv[2] ?? 0), countOnly: process.argv[3] === 'count-only' });
  process.stdout.write(`${JSON.stringify({ smtpPort: sink.smtpPort, mailboxUrl: sink.mailboxUrl })}\n`);
  serveUntilParentLeaves(() => sink.stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`the SMTP sink could not start: ${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
