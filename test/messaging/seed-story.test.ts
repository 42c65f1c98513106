import { closeConnectorPools } from '../../shared/connectors/postgres-pools';
import { startSmtpSinkServer, type RunningSmtpSink } from '../../local/smtp-sink';
import { assemblePage } from '../../shared/trigger-events/assemble';
import { startBigQueryDouble, type BigQueryDouble, type BigQueryRow, type QueryRequest } from '../support/bigquery-double';
import { createCustomerDatabase, type CustomerDatabase } from '../support/customer-postgres';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

/**
 * Seed 000, steps 2–3, whole: a `promo_codes` source, a bulk send that prints Dina Kozak's
 * row, a "birthday today" segment on the external `birthday` column, and the regular
 * workflow whose event `regularEventType-<segmentId>` carries the row as `jsonParam` and
 * whose triggered message prints the same values — on PostgreSQL and on BigQuery.
 */
let now = new Date('2026-09-02T08:00:00Z');
let stack: TestStack;
let customer: CustomerDatabase;
let bigQuery: BigQueryDouble;
/** Where the stack's email goes (issue #25): the triggered message must arrive, not only be recorded. */
let sink: RunningSmtpSink;

/** The customer's Google Cloud project: the key's project_id, where their dataset lives. */
const WAREHOUSE_PROJECT = 'acme-marketing';
const seedRow = { id: '2', email: 'kozak@example.com', name: 'Dina Kozak', birthday: '2020-09-02T00:00:00Z', promo_code: 'AAAA-BBBB-DDDD' };

beforeAll(async () => {
  bigQuery = await startBigQueryDouble();
  sink = await startSmtpSinkServer();
  stack = await startTestStack({
    clock: { now: () => now },
    env: { BIGQUERY_API_ENDPOINT: bigQuery.url, SMTP_URL: `smtp://127.0.0.1:${sink.smtpPort}`, EMAIL_DEFAULT_FROM: 'promo@shop.example.com' },
  });
  customer = await createCustomerDatabase(stack, { readOnly: true });
  await customer.admin.query(`
    CREATE TABLE promo_codes (id integer, email text, name text, birthday timestamptz, promo_code text);
    INSERT INTO promo_codes VALUES
      (2, 'kozak@example.com', 'Dina Kozak', '2020-09-02T00:00:00Z', 'AAAA-BBBB-DDDD'),
      (3, 'ivan@example.com', 'Ivan Petrenko', '1990-05-17T00:00:00Z', 'CCCC-1111'),
      -- a birthday today, but no contact of the account: must not qualify
      (4, 'stranger@example.com', 'Stranger', '1985-09-02T00:00:00Z', 'DDDD-2222');
  `);
  bigQuery.addTable(
    'crm',
    'promo_codes',
    [
      { name: 'id', type: 'INTEGER' },
      { name: 'email', type: 'STRING' },
      { name: 'name', type: 'STRING' },
      { name: 'birthday', type: 'TIMESTAMP' },
      { name: 'promo_code', type: 'STRING' },
    ],
    [
      { id: 2, email: 'kozak@example.com', name: 'Dina Kozak', birthday: '2020-09-02T00:00:00Z', promo_code: 'AAAA-BBBB-DDDD' },
      { id: 3, email: 'ivan@example.com', name: 'Ivan Petrenko', birthday: '1990-05-17T00:00:00Z', promo_code: 'CCCC-1111' },
      { id: 4, email: 'stranger@example.com', name: 'Stranger', birthday: '1985-09-02T00:00:00Z', promo_code: 'DDDD-2222' },
    ],
    { projectId: WAREHOUSE_PROJECT },
  );
  bigQuery.onQuery(birthdayTodayKeys);
  bigQuery.onQuery(notEmptyKeys);
});
afterAll(async () => {
  await closeConnectorPools(stack.platform);
  await stack.stop();
  await customer.drop();
  await bigQuery.stop();
  await sink.stop();
});

/**
 * The BigQuery double runs our pushed-down "birthday today" query over its rows, at the wire:
 * it answers only the exact SQL shape we generate, so a change to that SQL shows up here.
 */
function birthdayTodayKeys(request: QueryRequest, double: BigQueryDouble) {
  const match =
    /^SELECT DISTINCT CAST\(`(\w+)` AS STRING\) AS key FROM `([\w-]+)\.(\w+)\.(\w+)` WHERE `\w+` IS NOT NULL AND \(\(EXTRACT\(MONTH FROM TIMESTAMP\(`(\w+)`\)\) = @p0 AND EXTRACT\(DAY FROM TIMESTAMP\(`\w+`\)\) = @p1\)\)$/.exec(
      request.sql,
    );
  if (!match) return undefined;
  const [, keyColumn = '', projectId, dataset = '', table = '', dateColumn = ''] = match;
  const rows = double.rows(dataset, table, projectId).filter((row: BigQueryRow) => {
    const value = row[dateColumn];
    if (typeof value !== 'string') return false;
    const date = new Date(value);
    return date.getUTCMonth() + 1 === Number(request.params.p0) && date.getUTCDate() === Number(request.params.p1);
  });
  return { schema: [{ name: 'key', type: 'STRING' }], rows: rows.map((row: BigQueryRow) => ({ key: String(row[keyColumn]) })) };
}

/** The pushed-down "promo_code is not empty" query, answered over the double's rows. */
function notEmptyKeys(request: QueryRequest, double: BigQueryDouble) {
  const match =
    /^SELECT DISTINCT CAST\(`(\w+)` AS STRING\) AS key FROM `([\w-]+)\.(\w+)\.(\w+)` WHERE `\w+` IS NOT NULL AND \(\(`(\w+)` IS NOT NULL AND CAST\(`\w+` AS STRING\) <> ''\)\)$/.exec(
      request.sql,
    );
  if (!match) return undefined;
  const [, keyColumn = '', projectId, dataset = '', table = '', column = ''] = match;
  const rows = double
    .rows(dataset, table, projectId)
    .filter((row: BigQueryRow) => row[column] !== null && row[column] !== undefined && String(row[column]) !== '');
  return { schema: [{ name: 'key', type: 'STRING' }], rows: rows.map((row: BigQueryRow) => ({ key: String(row[keyColumn]) })) };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const bulkTemplate = [
  "<p>$!data.get('promo_codes').get(0).get('name') / $!data.get('promo_codes').get(0).get('promo_code')</p>",
  "#foreach($pc in $!data.get('promo_codes'))<li>$!pc.get('name') $!pc.get('promo_code')</li>#end",
].join('\n');

const triggeredTemplate = (sourceId: number) =>
  [
    `<p>$!data.get('${sourceId}').get(0).get('name') / $!data.get('${sourceId}').get(0).get('promo_code')</p>`,
    `#foreach($pc in $!data.get('${sourceId}'))<li>$!pc.get('name') $!pc.get('promo_code')</li>#end`,
  ].join('\n');

interface Warehouse {
  readonly connector: () => Record<string, unknown>;
  readonly dataset: string;
}

function theSeedStory(label: string, warehouse: () => Warehouse): void {
  describe(`the seed's story on ${label}`, () => {
    let account: TestAccount;
    let sourceId: number;
    let dina: number;
    let ivan: number;

    beforeAll(async () => {
      now = new Date('2026-09-02T08:00:00Z');
      account = await stack.createAccount();
      const connector = await stack.request(account, 'POST', '/api/v1/connectors', warehouse().connector());
      expect(connector.status).toBe(201);
      const source = await stack.request(account, 'POST', '/api/v1/datasources', {
        connectorId: connector.body.id,
        dataset: warehouse().dataset,
        table: 'promo_codes',
        name: 'promo_codes',
      });
      expect(source.status).toBe(201);
      sourceId = source.body.id;
      const contact = async (firstName: string, email: string) =>
        (await stack.request(account, 'POST', '/api/v1/contact', { firstName, channels: [{ type: 'email', value: email }] })).body.id as number;
      dina = await contact('Dina', 'kozak@example.com');
      ivan = await contact('Ivan', 'ivan@example.com');
      await contact('Olha', 'olha@example.com'); // in the account, not in the external table
    });

    it("previews the bulk template for a contact with that contact's rows, before anything is sent", async () => {
      const preview = await stack.request(account, 'POST', '/api/v1/templates/render', { template: bulkTemplate, contactId: dina, data: 'bulk' });
      expect(preview.status).toBe(200);
      expect(preview.body).toEqual({ output: '<p>Dina Kozak / AAAA-BBBB-DDDD</p>\n<li>Dina Kozak AAAA-BBBB-DDDD</li>', contactId: dina });
      // A triggered send's preview: jsonParam is the whole of $data.
      const triggered = await stack.request(account, 'POST', '/api/v1/templates/render', {
        template: bulkTemplate,
        contactId: dina,
        jsonParam: '{}',
      });
      expect(triggered.body.output).toBe('<p> / </p>\n');
    });

    it('renders the source row in a bulk send: "Dina Kozak" / "AAAA-BBBB-DDDD"', async () => {
      const group = await stack.request(account, 'POST', '/api/v1/groups', {
        name: 'Has a promo code',
        conditions: [{ source: sourceId, column: 'promo_code', operator: 'isNotEmpty' }],
      });
      const message = await stack.request(account, 'POST', '/api/v1/messages/email', { name: 'Promo', subject: 'Your code', htmlText: bulkTemplate });
      const broadcast = await stack.request(account, 'POST', '/api/v1/broadcasts', { messageId: message.body.id, groupId: group.body.id });
      expect(broadcast.status).toBe(202);
      expect(broadcast.body).toEqual({ id: expect.any(Number), status: 'SCHEDULED' });

      // The worker sends it from the broadcasts queue; the status endpoint says when it is done.
      const done = await waitFor(async () => {
        const status = await stack.request(account, 'GET', `/api/v1/broadcast/${broadcast.body.id}`);
        return status.body.status === 'IDLE' ? status.body : undefined;
      }, 'the broadcast to finish');
      expect(done).toMatchObject({
        id: broadcast.body.id,
        messageId: message.body.id,
        groupId: group.body.id,
        recipients: 2,
        sent: 2,
        failed: 0,
        failures: [],
      });
      const { rows } = await stack.platform.db.query('SELECT contact_id, html_text FROM message_sends WHERE account_id = $1 ORDER BY contact_id', [
        account.accountId,
      ]);
      expect(rows).toEqual([
        { contact_id: dina, html_text: '<p>Dina Kozak / AAAA-BBBB-DDDD</p>\n<li>Dina Kozak AAAA-BBBB-DDDD</li>' },
        { contact_id: ivan, html_text: '<p>Ivan Petrenko / CCCC-1111</p>\n<li>Ivan Petrenko CCCC-1111</li>' },
      ]);
    });

    it('emits regularEventType-<segmentId> with the row as jsonParam for "birthday today", and the triggered message prints it', async () => {
      const segment = await stack.request(account, 'POST', '/api/v1/groups', {
        name: 'Birthday today',
        conditions: [{ source: sourceId, column: 'birthday', operator: 'dayAndMonthIsToday' }],
      });
      expect(segment.status).toBe(200);
      const segmentId = segment.body.id as number;

      // Only contacts in both the account and the table: not the stranger, not Ivan (May).
      const members = await stack.request(account, 'GET', `/api/v1/group/${segmentId}/contacts`);
      expect(members.status).toBe(200);
      expect(members.body.map((contact: { id: number }) => contact.id)).toEqual([dina]);

      const message = await stack.request(account, 'POST', '/api/v1/messages/email', {
        name: 'Happy birthday',
        subject: "Happy birthday, $!data.get('" + sourceId + "').get(0).get('name')",
        htmlText: triggeredTemplate(sourceId),
        jsonParamField: '${jsonParam}',
      });
      const workflow = await stack.request(account, 'POST', '/api/v1/workflows/regular', {
        name: 'Birthday promo',
        segmentId,
        sourceIds: [sourceId],
        messageId: message.body.id,
        schedule: 'cron(0 9 * * ? *)',
      });
      expect(workflow.status).toBe(201);
      expect(workflow.body.eventTypeKey).toBe(`regularEventType-${segmentId}`);

      // 09:00 UTC: the workflow's schedule fires, the segment is evaluated, pages go through the queue.
      now = new Date('2026-09-02T09:00:05Z');
      const event = await waitFor(async () => {
        const { rows } = await stack.platform.db.query(
          `SELECT e.id, e.contact_id, e.params, t.key FROM events e JOIN event_types t ON t.id = e.event_type_id WHERE e.account_id = $1 AND t.key = $2`,
          [account.accountId, `regularEventType-${segmentId}`],
        );
        return rows[0];
      }, 'the trigger event');
      expect(event.contact_id).toBe(dina);
      expect(event.params.map((param: { name: string }) => param.name)).toEqual(['ContactId', 'jsonParam', 'EmailAddress']);
      const param = (name: string) => event.params.find((candidate: { name: string }) => candidate.name === name).value as string;
      expect(param('ContactId')).toBe(String(dina));
      expect(param('EmailAddress')).toBe('kozak@example.com');
      expect(JSON.parse(param('jsonParam'))).toEqual({ [String(sourceId)]: [seedRow] });

      const send = await waitFor(async () => {
        const { rows } = await stack.platform.db.query('SELECT subject, html_text, source_event_id FROM message_sends WHERE message_id = $1', [
          message.body.id,
        ]);
        return rows[0];
      }, 'the triggered send');
      expect(send).toEqual({
        subject: 'Happy birthday, Dina Kozak',
        html_text: '<p>Dina Kozak / AAAA-BBBB-DDDD</p>\n<li>Dina Kozak AAAA-BBBB-DDDD</li>',
        source_event_id: event.id,
      });

      // It leaves: Dina receives it over SMTP, and DELIVERED names the workflow and the event.
      const delivered = await waitFor(async () => {
        const { rows } = await stack.platform.db.query(
          "SELECT contact_id, message_id, workflow_id, source_event_id FROM contact_activities WHERE account_id = $1 AND activity_status = 'DELIVERED' AND workflow_id = $2",
          [account.accountId, workflow.body.id],
        );
        return rows[0];
      }, 'the triggered message delivered');
      expect(delivered).toEqual({ contact_id: dina, message_id: message.body.id, workflow_id: workflow.body.id, source_event_id: event.id });
      const email = await waitFor(
        async () => sink.messages.find((caught) => caught.subject === 'Happy birthday, Dina Kozak' && caught.to === 'kozak@example.com'),
        'the email in the sink',
      );
      expect(email.html).toContain('Dina Kozak / AAAA-BBBB-DDDD');

      // The same page again (a redelivery): nothing is emitted or sent twice that day.
      const again = await assemblePage(stack.platform, {
        accountId: account.accountId,
        workflowId: workflow.body.id,
        day: '2026-09-02',
        contactIds: [dina],
      });
      expect(again).toEqual({ emitted: 0, alreadyEmitted: 1, sent: 0 });
      const counts = await stack.platform.db.query(
        `SELECT (SELECT count(*)::int FROM events WHERE account_id = $1 AND event_type_id = (SELECT id FROM event_types WHERE account_id = $1 AND key = $2)) AS events,
                (SELECT count(*)::int FROM message_sends WHERE message_id = $3) AS sends`,
        [account.accountId, `regularEventType-${segmentId}`, message.body.id],
      );
      expect(counts.rows[0]).toEqual({ events: 1, sends: 1 });
    });
  });
}

theSeedStory('PostgreSQL', () => ({ connector: () => customer.connectorSettings(), dataset: 'public' }));

theSeedStory('BigQuery', () => {
  const key = bigQuery.keyFor(WAREHOUSE_PROJECT);
  return {
    connector: () => ({ kind: 'bigquery', name: 'Warehouse', key: JSON.stringify(key), uniqueKey: { column: 'email', contactField: 'email' } }),
    dataset: 'crm',
  };
});
