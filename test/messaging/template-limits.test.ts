import { DeleteMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { createHandler } from '../../functions/send-broadcast/handler';
import { MAX_TEMPLATE_CHARS } from '../../shared/templates/limits';
import { busyRenderThreads } from '../../shared/templates/render-pool';
import { receiveRecords } from '../support/sqs-records';
import { startTestStack, type TestAccount, type TestStack, type TestResponse } from '../support/stack';
import { waitUntil } from '../support/wait-until';

/**
 * Templates written to hurt the platform, through every door a template comes in by: the
 * preview, a message save, a smartsend and a broadcast. Each ends in a template error on its
 * own request or recipient, and the API keeps answering while the render runs.
 */
let stack: TestStack;
let account: TestAccount;
let broadcastWorker: ReturnType<typeof createHandler>;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
  account = await stack.createAccount();
  broadcastWorker = createHandler(stack.platform);
});
afterAll(() => stack.stop());

/** A 1,048,576-character value, built inside every per-value limit. */
const million = '#set($s = "x")#foreach($i in [1..20])#set($s = "$s$s")#end';

/** The attacks the sandbox must end with TEMPLATE_LIMIT_EXCEEDED (each parses, so each can be saved). */
const runaways: readonly (readonly [string, string])[] = [
  // The 161 characters: one replace asks for a 524 M-character string (V8 would abort the process).
  ['one method call asking for a giant value', `${million}#set($t = $s.replace("x", "${'y'.repeat(500)}"))$t.replace("y", "zz")`],
  // The 146 bytes: 1,500 linear calls on a 1 M-character value (62 s of event loop before).
  ['call after call on a large value', `${million}#foreach($i in [1..1500])#set($t = $s.replace("y", "z"))#end`],
  // Within every size, loop and work bound: macro calls, a million of them; the clock (or the node count) stops it.
  [
    'a loop that runs out of time',
    `#macro(m)#set($a = 1)#set($b = $a)#end#foreach($i in [1..10000])#foreach($j in [1..10])${'#m()'.repeat(40)}#end#end`,
  ],
  // Cheap-looking comparisons that each read a million characters: charged as work.
  [
    'comparisons of large values',
    `${million}#set($t = $s.replace("x", "x"))#foreach($i in [1..10000])#foreach($j in [1..10])#if($s == $t)#end#end#end`,
  ],
  ['recursion past the stack', '#define($a)$a#end$a'],
  [
    'a list that doubles',
    '#set($l = ["x"])#foreach($i in [1..30])#set($l = $l.subList(0, $l.size()))#foreach($x in [1..2])#foreach($y in $l.subList(0, $l.size()))#set($ok = $l.add($y))#end#end#end',
  ],
];
const slowest = runaways[2]?.[1] ?? '';

/** Strict syntax: what velocityjs rendered leniently before. */
const malformed: readonly (readonly [string, string, number, number])[] = [
  ['an unclosed #if', 'Hello\n#if($contact.firstName == "VIP")VIP-ONLY-CODE', 2, 1],
  ['an unclosed #if(false)', '#if(false)secret', 1, 1],
  ['a stray #end', 'a #end b', 1, 3],
  ['an unclosed #foreach', '#foreach($i in [1, 2])$i', 1, 1],
  ['an unclosed #macro', 'x\n  #macro(m)body', 2, 3],
  ['an #else outside #if', 'a #else b', 1, 3],
  ['an #elseif after #else', '#if(true)a#else b#elseif(false)c#end', 1, 18],
  ['an unclosed comment', '#* a closed one *# text\n  #* never closed', 2, 3],
  ['an unclosed unparsed block', 'a #[[ raw', 1, 3],
];

async function createContact(email: string): Promise<number> {
  const response = await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'Target', channels: [{ type: 'email', value: email }] });
  expect(response.status).toBe(200);
  return response.body.id as number;
}

async function saveMessage(htmlText: string): Promise<TestResponse> {
  return stack.request(account, 'POST', '/api/v1/messages/email', { name: 'Attack', subject: 'Hi $!contact.firstName', htmlText });
}

/**
 * Starts `work`, waits until a render thread is busy with it, and checks the API answers
 * `GET /api/v1/version` while that render is still running; then answers `work`'s result.
 */
async function whileRendering<T>(work: () => Promise<T>): Promise<T> {
  let settled = false;
  const running = work().finally(() => {
    settled = true;
  });
  await waitUntil(async () => busyRenderThreads() > 0 || settled, 'a render thread taking the template');
  const version = await stack.request(account, 'GET', '/api/v1/version');
  expect(version.status).toBe(200);
  // The render was still going when the API answered: it never held the API's event loop.
  expect(settled).toBe(false);
  return running;
}

describe('POST /api/v1/templates/render', () => {
  it.each(runaways)('ends %s with 422 TEMPLATE_LIMIT_EXCEEDED', async (_, template) => {
    const response = await stack.request(account, 'POST', '/api/v1/templates/render', { template });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('TEMPLATE_LIMIT_EXCEEDED');
  });

  it('keeps answering other requests while a runaway render runs', async () => {
    const response = await whileRendering(() => stack.request(account, 'POST', '/api/v1/templates/render', { template: slowest }));
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({ code: 'TEMPLATE_LIMIT_EXCEEDED', message: expect.stringMatching(/out of time|nodes/) });
    // And the next render is served as usual.
    const next = await stack.request(account, 'POST', '/api/v1/templates/render', { template: '#set($n = 2)ok $n' });
    expect(next.body).toEqual({ output: 'ok 2' });
  });

  it.each(malformed)('refuses %s with TEMPLATE_SYNTAX and where it is', async (_, template, line, column) => {
    const response = await stack.request(account, 'POST', '/api/v1/templates/render', { template });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('TEMPLATE_SYNTAX');
    expect(response.body.error.message).toContain(`line ${line}, column ${column}`);
  });

  it("parses 30 KB of '$ ' (quadratic before) and renders it as text", async () => {
    const template = '$ '.repeat(15_000);
    const response = await stack.request(account, 'POST', '/api/v1/templates/render', { template });
    expect(response.status).toBe(200);
    expect(response.body.output).toBe(template);
  });

  it('refuses a template longer than the documented maximum', async () => {
    const response = await stack.request(account, 'POST', '/api/v1/templates/render', { template: 'x'.repeat(MAX_TEMPLATE_CHARS + 1) });
    expect(response.status).toBe(400);
    expect(response.text).toContain('template');
  });

  it('answers a change to external data with its own code, and a copy can be changed', async () => {
    const jsonParam = JSON.stringify({ rows: ['a', 'b'], offer: { code: 'X' } });
    const changed = await stack.request(account, 'POST', '/api/v1/templates/render', { template: '#set($data.offer.code = "Y")', jsonParam });
    expect(changed.status).toBe(422);
    expect(changed.body.error.code).toBe('TEMPLATE_DATA_READ_ONLY');
    const added = await stack.request(account, 'POST', '/api/v1/templates/render', { template: "$data.get('rows').add('c')", jsonParam });
    expect(added.body.error.code).toBe('TEMPLATE_DATA_READ_ONLY');
    // What docs/messaging.md shows: build a copy, then change the copy.
    const copy = [
      '#set($rows = [])#foreach($row in $data.rows)#set($ok = $rows.add($row))#end#set($ok = $rows.add("c"))',
      '#set($offer = {})#foreach($entry in $data.offer.entrySet())#set($ok = $offer.put($entry.key, $entry.value))#end#set($ok = $offer.put("code", "Y"))',
      "$rows $offer.code $data.rows $data.offer.code $rows.remove('a') $rows",
    ].join('');
    const copied = await stack.request(account, 'POST', '/api/v1/templates/render', { template: copy, jsonParam });
    expect(copied.body).toEqual({ output: '[a, b, c] Y [a, b] X true [b, c]' });
  });
});

describe('a message save', () => {
  it.each(malformed)('refuses %s with 400 TEMPLATE_SYNTAX and stores nothing', async (_, template, line, column) => {
    const before = await stack.platform.db.query('SELECT count(*)::int AS n FROM messages WHERE account_id = $1', [account.accountId]);
    const response = await saveMessage(template);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('TEMPLATE_SYNTAX');
    expect(response.body.error.details).toEqual([{ path: 'body.htmlText', message: expect.stringContaining(`(line ${line}, column ${column})`) }]);
    const after = await stack.platform.db.query('SELECT count(*)::int AS n FROM messages WHERE account_id = $1', [account.accountId]);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it("saves 30 KB of '$ ' (its parse was quadratic)", async () => {
    const response = await saveMessage('$ '.repeat(15_000));
    expect(response.status).toBe(201);
  });

  it('refuses blocks nested past the limit with 400 TEMPLATE_LIMIT_EXCEEDED', async () => {
    const response = await saveMessage(`${'#if(true)'.repeat(100)}x${'#end'.repeat(100)}`);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('TEMPLATE_LIMIT_EXCEEDED');
    expect(response.body.error.details[0].message).toContain('nest at most 64 deep');
  });
});

describe('smartsend', () => {
  it.each(runaways)('fails the recipient of %s with TEMPLATE_LIMIT_EXCEEDED and sends to the others', async (_, template) => {
    const saved = await saveMessage(`#if($contact.email.startsWith("attack"))${template}#else fine#end`);
    expect(saved.status).toBe(201);
    const attacked = await createContact(`attack-${saved.body.id}@example.com`);
    const spared = await createContact(`spared-${saved.body.id}@example.com`);
    const send = () =>
      stack.request(account, 'POST', `/api/v1/message/${saved.body.id}/smartsend`, { recipients: [{ contactId: attacked }, { contactId: spared }] });
    const response = template === slowest ? await whileRendering(send) : await send();
    expect(response.status).toBe(200);
    expect(response.body.results[0]).toMatchObject({ status: 'ERROR', contactId: attacked, error: { code: 'TEMPLATE_LIMIT_EXCEEDED' } });
    expect(response.body.results[1]).toMatchObject({ status: 'OK', contactId: spared });
    const { rows } = await stack.platform.db.query<{ contact_id: number }>('SELECT contact_id FROM message_sends WHERE message_id = $1', [
      saved.body.id,
    ]);
    expect(rows.map((row) => row.contact_id)).toEqual([spared]);
  });
});

describe('a broadcast', () => {
  async function runBroadcastJob(): Promise<SQSBatchResponse> {
    const [record] = await receiveRecords(stack.sqs, stack.queueUrls.broadcasts, { visibilityTimeout: 300 });
    if (!record) throw new Error('no broadcast job is queued');
    const result = await broadcastWorker({ Records: [record] }, { getRemainingTimeInMillis: () => 15 * 60_000 });
    if (result.batchItemFailures.length === 0)
      await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrls.broadcasts, ReceiptHandle: record.receiptHandle }));
    return result;
  }

  it.each([runaways[0], runaways[2], runaways[3]] as (readonly [string, string])[])(
    'fails each member for %s with the template code, finishes, and shows the error',
    async (_, template) => {
      const domain = `b${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}.example`;
      const members = await Promise.all([1, 2, 3, 4, 5].map((n) => createContact(`member${n}@${domain}`)));
      const group = await stack.request(account, 'POST', '/api/v1/groups', {
        name: `Everyone at ${domain}`,
        conditions: [{ field: 'email', operator: 'contains', value: `@${domain}` }],
      });
      const saved = await saveMessage(template);
      const started = await stack.request(account, 'POST', '/api/v1/broadcasts', { messageId: saved.body.id, groupId: group.body.id });
      expect(started.status).toBe(202);

      // The job ends (no retry): a failing template is each member's failure, not the job's.
      const result = template === slowest ? await whileRendering(runBroadcastJob) : await runBroadcastJob();
      expect(result.batchItemFailures).toEqual([]);
      const status = await stack.request(account, 'GET', `/api/v1/broadcast/${started.body.id}`);
      expect(status.body).toMatchObject({ status: 'IDLE', recipients: 5, sent: 0, failed: 5 });
      expect(status.body.failures.map((failure: { contactId: number }) => failure.contactId).sort()).toEqual([...members].sort());
      for (const failure of status.body.failures)
        expect(failure.error).toMatchObject({ code: 'TEMPLATE_LIMIT_EXCEEDED', message: expect.stringContaining('htmlText') });
    },
  );
});
