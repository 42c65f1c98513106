/**
 * Email out over SMTP: a broadcast of 10,000 recipients on the local stack (render, record,
 * queue, hand over SMTP, record DELIVERED), into an SMTP sink in its own process, against a
 * bare nodemailer loop into the same sink in the same run. Figures: emails handed to SMTP
 * per second (first broadcast request → last message received by the sink), until every
 * DELIVERED activity is recorded, and the stack's CPU per email (every process of the stack,
 * the sink left out) against the bare loop's (this process's CPU while it ran); the sink's CPU
 * per email apart. Three rounds, each a new broadcast to the same 10,000 contacts and a bare
 * loop; each figure is the median with every round and the spread. Target: ≥ 1,000 emails/s,
 * or ≥ 0.5× the bare loop.
 */
import { createTransport } from 'nodemailer';
import { startSmtpSink, type SmtpSinkProcess } from '../local/smtp-sink';
import { createAccount, issueApiKey } from '../shared/accounts/api-keys';
import { figureByRound, median } from './load';
import { monotonicMs } from './monotonic';
import { startBenchStack } from './services';
import { processCpuMs, stackCpuMs } from './stack-cpu';

const RECIPIENTS = 10_000;
const BARE_IN_FLIGHT = 16;
const ROUNDS = 3;

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

interface Round {
  readonly stackPerSecond: number;
  readonly recordedPerSecond: number;
  /** CPU of every process of the stack per email, µs: to the last hand-over, and until every DELIVERED is recorded. */
  readonly stackCpuUsToHandOver: number | undefined;
  readonly stackCpuUs: number | undefined;
  readonly sinkCpuUs: number | undefined;
  readonly barePerSecond: number;
  /** This process's CPU per email while the bare loop ran (nodemailer and its sockets), µs. */
  readonly bareCpuUs: number;
  readonly bareSinkCpuUs: number | undefined;
}

const perEmailUs = (from: number | undefined, to: number | undefined) =>
  from !== undefined && to !== undefined ? Math.round(((to - from) * 1000) / RECIPIENTS) : undefined;

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
    const excluded = new Set(sink.pid === undefined ? [] : [sink.pid]);
    const sinkCpuMs = () => (sink.pid === undefined ? undefined : processCpuMs(sink.pid));
    const delivered = async () => {
      const { rows } = await platform.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM contact_activities WHERE account_id = $1 AND activity_status = 'DELIVERED'",
        [accountId],
      );
      return rows[0]!.n;
    };
    const transport = createTransport({
      pool: true,
      maxConnections: 8,
      maxMessages: Infinity,
      host: '127.0.0.1',
      port: Number(new URL(sink.smtpUrl).port),
      secure: false,
      ignoreTLS: true,
    });

    const rounds: Round[] = [];
    let sendsChecked = '';
    for (let round = 1; round <= ROUNDS; round += 1) {
      // The stack: broadcast request → every message in the sink → every DELIVERED recorded.
      const message = await call('POST', '/api/v1/messages/email', {
        name: `Bench ${round}`,
        subject: 'News for $!contact.firstName',
        htmlText: html,
      });
      const receivedBefore = await receivedBy(sink);
      const deliveredBefore = await delivered();
      const cpuBefore = stackCpuMs(excluded);
      const sinkBefore = sinkCpuMs();
      const started = monotonicMs();
      await call('POST', '/api/v1/broadcasts', { messageId: message.id, groupId: group.id });
      await waitFor(async () => (await receivedBy(sink)) >= receivedBefore + RECIPIENTS, 600_000);
      const handedOver = monotonicMs();
      const cpuAtHandOver = stackCpuMs(excluded);
      const sinkAtHandOver = sinkCpuMs();
      await waitFor(async () => (await delivered()) >= deliveredBefore + RECIPIENTS, 600_000);
      const recorded = monotonicMs();
      const cpuAfter = stackCpuMs(excluded);
      const { rows: states } = await platform.db.query<{ sent: number; distinct_recipients: number }>(
        `SELECT count(*) FILTER (WHERE s.state = 'sent')::int AS sent, count(DISTINCT s.recipient)::int AS distinct_recipients
           FROM message_sends s WHERE s.account_id = $1 AND s.message_id = $2`,
        [accountId, message.id],
      );
      sendsChecked = `${states[0]!.sent} / ${states[0]!.distinct_recipients}`;

      // The bare loop: nodemailer's pooled transport into the same sink, the same HTML, nothing else.
      const bareReceivedBefore = await receivedBy(sink);
      const bareSinkBefore = sinkCpuMs();
      const bareCpuBefore = process.cpuUsage();
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
      await waitFor(async () => (await receivedBy(sink)) >= bareReceivedBefore + RECIPIENTS, 600_000);
      const bareCpu = process.cpuUsage(bareCpuBefore);
      rounds.push({
        stackPerSecond: Math.round(RECIPIENTS / ((handedOver - started) / 1000)),
        recordedPerSecond: Math.round(RECIPIENTS / ((recorded - started) / 1000)),
        stackCpuUsToHandOver: perEmailUs(cpuBefore, cpuAtHandOver),
        stackCpuUs: perEmailUs(cpuBefore, cpuAfter),
        sinkCpuUs: perEmailUs(sinkBefore, sinkAtHandOver),
        barePerSecond: Math.round(RECIPIENTS / ((monotonicMs() - bareStarted) / 1000)),
        bareCpuUs: Math.round((bareCpu.user + bareCpu.system) / RECIPIENTS),
        bareSinkCpuUs: perEmailUs(bareSinkBefore, sinkCpuMs()),
      });
    }
    transport.close();

    const figure = figureByRound(rounds);
    const rateRatio = (round: Round) => round.stackPerSecond / round.barePerSecond;
    const medianRate = median(rounds.map((round) => round.stackPerSecond));
    const medianRatio = median(rounds.map(rateRatio));
    return {
      recipients: RECIPIENTS,
      rounds: ROUNDS,
      ...figure('stack: emails handed to SMTP per s', (round) => round.stackPerSecond),
      ...figure('stack: emails per s until every DELIVERED recorded', (round) => round.recordedPerSecond),
      ...figure('stack: CPU µs per email (to hand-over)', (round) => round.stackCpuUsToHandOver),
      ...figure('stack: CPU µs per email (with activities)', (round) => round.stackCpuUs),
      ...figure('sink: CPU µs per email (stack rounds)', (round) => round.sinkCpuUs),
      'last round: sends recorded sent / distinct recipients': sendsChecked,
      ...figure('bare nodemailer loop: emails per s', (round) => round.barePerSecond),
      ...figure('bare nodemailer loop: CPU µs per email', (round) => round.bareCpuUs),
      ...figure('sink: CPU µs per email (bare rounds)', (round) => round.bareSinkCpuUs),
      ...figure('stack / bare (rate)', rateRatio, 2),
      ...figure('stack / bare (CPU per email)', (round) => (round.stackCpuUs === undefined ? undefined : round.stackCpuUs / round.bareCpuUs), 2),
      target: '>= 1000 emails/s or >= 0.5x the bare loop',
      meets_target: medianRate >= 1000 || medianRatio >= 0.5 ? 'yes' : 'no',
    };
  } finally {
    await stack.close();
    await sink.stop();
  }
}
