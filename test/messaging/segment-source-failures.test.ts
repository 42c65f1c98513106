import { DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { createHandler as createAssembler } from '../../functions/assemble-trigger-events/handler';
import { createHandler as createBroadcastWorker } from '../../functions/send-broadcast/handler';
import { lambdaContext } from '../../local/lambda-context';
import { closeConnectorPools } from '../../shared/connectors/postgres-pools';
import { createCustomerDatabase, type CustomerDatabase } from '../support/customer-postgres';
import { receiveRecords } from '../support/sqs-records';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

/**
 * Issue 20, item 4: a segment on a customer's table whose query the customer's database
 * refuses. A date operator on a text column is refused when the segment is saved; whatever
 * the database raises while a segment is evaluated answers a documented code (never a 500)
 * and is shown on the broadcast and the workflow.
 */
const today = new Date('2026-09-02T10:00:00Z');
let stack: TestStack;
let account: TestAccount;
let customer: CustomerDatabase;
let connectorId: number;
let promoSource: number;
let brokenSource: number;

beforeAll(async () => {
  stack = await startTestStack({ background: false, clock: { now: () => today } });
  account = await stack.createAccount();
  customer = await createCustomerDatabase(stack, { readOnly: true });
  await customer.admin.query(`
    CREATE TABLE promo_codes (email text, promo_code character varying(100), birthday timestamptz, points integer);
    INSERT INTO promo_codes VALUES ('kozak@example.com', 'AAAA-BBBB-DDDD', '2020-09-02T00:00:00Z', 10);
    -- Reading "tier" fails for every row (division by zero): the catalog is fine, the data is not.
    CREATE VIEW broken AS SELECT email, (1 / (points - points))::text AS tier FROM promo_codes;
  `);
  connectorId = (await stack.request(account, 'POST', '/api/v1/connectors', customer.connectorSettings())).body.id;
  promoSource = (
    await stack.request(account, 'POST', '/api/v1/datasources', { connectorId, dataset: 'public', table: 'promo_codes', name: 'promo_codes' })
  ).body.id;
  brokenSource = (await stack.request(account, 'POST', '/api/v1/datasources', { connectorId, dataset: 'public', table: 'broken', name: 'broken' }))
    .body.id;
  await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'Dina', channels: [{ type: 'email', value: 'kozak@example.com' }] });
});
afterAll(async () => {
  await closeConnectorPools(stack.platform);
  await stack.stop();
  await customer.drop();
});

async function brokenGroup(): Promise<number> {
  const group = await stack.request(account, 'POST', '/api/v1/groups', {
    name: 'gold',
    conditions: [{ source: brokenSource, column: 'tier', operator: 'equals', value: 'gold' }],
  });
  expect(group.status).toBe(200);
  return group.body.id;
}

/** A segment saved before the save-time check existed: a date operator on the text column. */
async function legacyDateOnTextGroup(): Promise<number> {
  const { rows } = await stack.platform.db.query<{ id: number }>(
    'INSERT INTO segments (account_id, name, conditions) VALUES ($1, $2, $3::jsonb) RETURNING id',
    [account.accountId, 'saved long ago', JSON.stringify([{ source: promoSource, column: 'promo_code', operator: 'inLastDays', value: 7 }])],
  );
  return rows[0]!.id;
}

describe('saving a segment', () => {
  it.each(['inLastDays', 'dayAndMonthIsToday'])(
    'refuses %s on a text column with 400 naming the column, its type and the operator',
    async (operator) => {
      const response = await stack.request(account, 'POST', '/api/v1/groups', {
        name: 'dates on text',
        conditions: [{ source: promoSource, column: 'promo_code', operator, ...(operator === 'inLastDays' ? { value: 7 } : {}) }],
      });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('CONDITION_TYPE_MISMATCH');
      expect(response.body.error.message).toContain('"promo_code" is character varying(100)');
      expect(response.body.error.message).toContain(operator);
      expect(response.body.error.details).toEqual([
        { path: 'column', message: 'promo_code' },
        { path: 'type', message: 'character varying(100)' },
        { path: 'operator', message: operator },
      ]);
      expect((await stack.request(account, 'GET', '/api/v1/groups')).body.map((group: { name: string }) => group.name)).not.toContain(
        'dates on text',
      );
    },
  );

  it('accepts date operators on a timestamp column, and refuses a column the table lacks at save', async () => {
    const birthday = await stack.request(account, 'POST', '/api/v1/groups', {
      name: 'Birthday today',
      conditions: [{ source: promoSource, column: 'birthday', operator: 'dayAndMonthIsToday' }],
    });
    expect(birthday.status).toBe(200);
    const listed = await stack.request(account, 'GET', `/api/v1/group/${birthday.body.id}/contacts`);
    expect(listed.body.map((contact: { firstName: string }) => contact.firstName)).toEqual(['Dina']);
    const unknown = await stack.request(account, 'POST', '/api/v1/groups', {
      name: 'x',
      conditions: [{ source: promoSource, column: 'nope', operator: 'isEmpty' }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('UNKNOWN_SOURCE_COLUMN');
  });
});

describe('evaluating a segment the customer database refuses', () => {
  it('answers listing members with 422 SOURCE_QUERY_REJECTED and the SQLSTATE, not 500', async () => {
    const listed = await stack.request(account, 'GET', `/api/v1/group/${await brokenGroup()}/contacts`);
    expect(listed.status).toBe(422);
    expect(listed.body.error).toMatchObject({ code: 'SOURCE_QUERY_REJECTED', details: [{ path: 'sqlState', message: '22012' }] });
    const legacy = await stack.request(account, 'GET', `/api/v1/group/${await legacyDateOnTextGroup()}/contacts`);
    expect(legacy.status).toBe(400);
    expect(legacy.body.error.code).toBe('CONDITION_TYPE_MISMATCH');
  });

  it('stops a broadcast to it (PAUSED with the error) instead of leaving it SCHEDULED', async () => {
    const worker = createBroadcastWorker(stack.platform);
    const message = await stack.request(account, 'POST', '/api/v1/messages/email', { name: 'm', subject: 's', htmlText: 'Hi' });
    const cases = [
      [await brokenGroup(), 'SOURCE_QUERY_REJECTED'],
      [await legacyDateOnTextGroup(), 'CONDITION_TYPE_MISMATCH'],
    ] as const;
    for (const [groupId, code] of cases) {
      const started = await stack.request(account, 'POST', '/api/v1/broadcasts', { messageId: message.body.id, groupId });
      expect(started.status).toBe(202);
      const [job] = await receiveRecords(stack.sqs, stack.queueUrls.broadcasts);
      const result = await worker({ Records: [job!] }, { getRemainingTimeInMillis: () => 300_000 });
      // Done with, not retried: retrying would meet the same refusal.
      expect(result.batchItemFailures).toEqual([]);
      await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrls.broadcasts, ReceiptHandle: job!.receiptHandle }));
      const broadcast = await stack.request(account, 'GET', `/api/v1/broadcast/${started.body.id}`);
      expect(broadcast.body).toMatchObject({ status: 'PAUSED', recipients: null, sent: 0 });
      expect(broadcast.body.error.code).toBe(code);
    }
  });

  it('answers "run now" of a workflow on it with 422, and shows a scheduled run that failed on the workflow', async () => {
    const workflow = await stack.request(account, 'POST', '/api/v1/workflows/regular', {
      name: 'w',
      segmentId: await brokenGroup(),
      sourceIds: [promoSource],
      schedule: 'rate(1 day)',
    });
    expect(workflow.status).toBe(201);
    const run = await stack.request(account, 'POST', `/api/v1/workflows/regular/${workflow.body.id}/run`);
    expect(run.status).toBe(422);
    expect(run.body.error.code).toBe('SOURCE_QUERY_REJECTED');
    expect((await stack.request(account, 'GET', `/api/v1/workflows/regular/${workflow.body.id}`)).body.lastRun).toMatchObject({
      status: 'FAILED',
      error: { code: 'SOURCE_QUERY_REJECTED' },
    });

    const legacy = await stack.request(account, 'POST', '/api/v1/workflows/regular', {
      name: 'legacy',
      segmentId: await legacyDateOnTextGroup(),
      schedule: 'rate(1 day)',
    });
    const assembler = createAssembler(stack.platform);
    // The scheduled firing ends without an error to retry; the workflow says why it did nothing.
    await expect(
      assembler(
        {
          source: 'satellite.scheduler',
          'detail-type': 'triggerEvents',
          time: today.toISOString(),
          detail: { accountId: account.accountId, workflowId: legacy.body.id },
        },
        lambdaContext('assemble-trigger-events', 300_000),
      ),
    ).resolves.toBeUndefined();
    const shown = await stack.request(account, 'GET', `/api/v1/workflows/regular/${legacy.body.id}`);
    expect(shown.body.lastRun).toEqual({
      at: today.toISOString(),
      status: 'FAILED',
      error: { code: 'CONDITION_TYPE_MISMATCH', message: expect.stringContaining('promo_code') },
    });
  });
});
