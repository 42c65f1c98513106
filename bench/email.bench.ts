/**
 * Email out over SMTP: a broadcast of 10,000 recipients on the local stack (render, record,
 * queue, hand over SMTP, record DELIVERED), into an SMTP sink in its own process, against a
 * bare nodemailer loop into the same sink in the same run. Figures: emails handed to SMTP
 * per second (first broadcast request → last message received by the sink), until every
 * DELIVERED activity is recorded, and the stack's CPU per email (every process of the stack,
 * the sink left out). Target: ≥ 1,000 emails/s, or ≥ 0.5× the bare loop.
 */
import { createTransport } from 'nodemailer';
import { startSmtpSink, type SmtpSinkProcess } from '../local/smtp-sink';
import { createAccount, issueApiKey } from '../shared/accounts/api-keys';
import { monotonicMs } from './monotonic';
import { startBenchStack } from './services';
import { stackCpuMs } from './stack-cpu';

const RECIPIENTS = 10_000;
const BARE_IN_FLIGHT = 16;

const html =
  '<html><body><p>Hi $!contact.firstName,</p><p>Your code: <b>CODE-$!contact.id</b></p>' +
  '<p><a href="https://shop.example.com/promo?c=$!contact.id">Use it</a> or <a href="https://shop.example.com/">browse</a>.</p></body></html>';

async function receivedBy(sink: SmtpSinkProcess): Promise<number> {
  const response = await fetch(`${sink.mailboxUrl}/messages?to=nobody`);
  return ((await response.json()) as { received: number }).received;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the bench timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function run(): Promise<Record<string, number | string>> {
  const sink = await startSmtpSink({ countOnly: true });
  const stack = await startBenchStack({ SMTP_URL: sink.smtpUrl, EMAIL_DEFAULT_FROM: 'news@bench.example', EMAIL_SEND_RATE_PER_SECOND: '1000000' });
  try {
    const { platform } = stack;
    const accountId = await createAccount(platform.db, 'Bench');
    const { key } = await issueApiKey(platform.db, accountId, { name: 'bench' });
    const authorization = `Basic ${Buffer.from(`bench:${key}`).toString('base64')}`;
    const call = async (method: string, path: string, body: unknown) => {
      const response = await fetch(`${stack.url}${path}`, {
        method,
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as { id: number };
    };
    await platform.db.query(
      `WITH created AS (INSERT INTO contacts (account_id, first_name) SELECT $1, 'Contact ' || i FROM generate_series(1, ${RECIPIENTS}) i RETURNING id, first_name)
       INSERT INTO contact_channels (account_id, contact_id, type, value, normalized)
       SELECT $1, id, 'email', lower(replace(first_name, ' ', '')) || '@bench.example', lower(replace(first_name, ' ', '')) || '@bench.example' FROM created`,
      [accountId],
    );
    await platform.db.query('ANALYZE contacts, contact_channels');
    const group = await call('POST', '/api/v1/groups', {
      name: 'Everyone',
      conditions: [{ field: 'email', operator: 'contains', value: '@bench.example' }],
    });
    const message = await call('POST', '/api/v1/messages/email', { name: 'Bench', subject: 'News for $!contact.firstName', htmlText: html });

    // The stack: broadcast request → every message in the sink → every DELIVERED recorded.
    const excluded = new Set(sink.pid === undefined ? [] : [sink.pid]);
    const cpuBefore = stackCpuMs(excluded);
    const started = monotonicMs();
    await call('POST', '/api/v1/broadcasts', { messageId: message.id, groupId: group.id });
    await waitFor(async () => (await receivedBy(sink)) >= RECIPIENTS, 600_000);
    const handedOver = monotonicMs();
    const cpuAtHandOver = stackCpuMs(excluded);
    await waitFor(async () => {
      const { rows } = await platform.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM contact_activities WHERE account_id = $1 AND activity_status = 'DELIVERED'",
        [accountId],
      );
      return rows[0]!.n >= RECIPIENTS;
    }, 600_000);
    const recorded = monotonicMs();
    const cpuAfter = stackCpuMs(excluded);
    const { rows: states } = await platform.db.query<{ sent: number; distinct_recipients: number; recording_s: number }>(
      `SELECT count(*) FILTER (WHERE state = 'sent')::int AS sent, count(DISTINCT recipient)::int AS distinct_recipients,
              extract(epoch FROM max(created_at) - min(created_at))::float8 AS recording_s
         FROM message_sends WHERE account_id = $1`,
      [accountId],
    );
    const stackRate = RECIPIENTS / ((handedOver - started) / 1000);

    // The bare loop: nodemailer's pooled transport into the same sink, the same HTML, nothing else.
    const before = await receivedBy(sink);
    const transport = createTransport({
      pool: true,
      maxConnections: 8,
      maxMessages: Infinity,
      host: '127.0.0.1',
      port: Number(new URL(sink.smtpUrl).port),
      secure: false,
      ignoreTLS: true,
    });
    const bareStarted = monotonicMs();
    let next = 0;
    await Promise.all(
      Array.from({ length: BARE_IN_FLIGHT }, async () => {
        while (next < RECIPIENTS) {
          const index = next++;
          await transport.sendMail({
            from: 'news@bench.example',
            to: `contact${index}@bare.example`,
            subject: `News for Contact ${index}`,
            html: html.replace(/\$!contact\.\w+/g, String(index)),
            text: 'News',
          });
        }
      }),
    );
    await waitFor(async () => (await receivedBy(sink)) >= before + RECIPIENTS, 600_000);
    const bareRate = RECIPIENTS / ((monotonicMs() - bareStarted) / 1000);
    transport.close();

    const cpuPerEmail = (from: number | undefined, to: number | undefined) =>
      from !== undefined && to !== undefined ? Math.round(((to - from) / RECIPIENTS) * 1000) / 1000 : 'n/a';
    return {
      recipients: RECIPIENTS,
      'stack: emails handed to SMTP per s': Math.round(stackRate),
      'stack: emails per s until every DELIVERED recorded': Math.round(RECIPIENTS / ((recorded - started) / 1000)),
      'stack: CPU ms per email (to hand-over)': cpuPerEmail(cpuBefore, cpuAtHandOver),
      'stack: CPU ms per email (with activities)': cpuPerEmail(cpuBefore, cpuAfter),
      'sends recorded sent / distinct recipients': `${states[0]!.sent} / ${states[0]!.distinct_recipients}`,
      'broadcast: s from first to last send recorded': Math.round(states[0]!.recording_s * 10) / 10,
      'stack: s from broadcast request to last hand-over': Math.round((handedOver - started) / 100) / 10,
      'bare nodemailer loop: emails per s': Math.round(bareRate),
      'stack / bare': Math.round((stackRate / bareRate) * 100) / 100,
      target: '>= 1000 emails/s or >= 0.5x the bare loop',
      meets_target: stackRate >= 1000 || stackRate >= 0.5 * bareRate ? 'yes' : 'no',
    };
  } finally {
    await stack.close();
    await sink.stop();
  }
}
