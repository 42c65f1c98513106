import { createHandler as createAssembler } from '../../functions/assemble-trigger-events/handler';
import { lambdaContext } from '../../local/lambda-context';
import { closeConnectorPools } from '../../shared/connectors/postgres-pools';
import { createCustomerDatabase, type CustomerDatabase } from '../support/customer-postgres';
import { receiveRecords } from '../support/sqs-records';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

/**
 * Issue 20, items 5, 11 and 12: an account moving from eSputnik keeps its data-source names
 * (any script, spaces, hyphens), the numeric ids its templates and event consumers use
 * (`$!data.get('1043')`, `regularEventType-170531841`), and a marketer previews a bulk
 * message with a real contact's rows, as the broadcast would send it.
 */
const today = new Date('2026-09-02T10:00:00Z');
const seedRow = { id: '2', email: 'kozak@example.com', name: 'Dina Kozak', birthday: '2020-09-02T00:00:00Z', promo_code: 'AAAA-BBBB-DDDD' };
let stack: TestStack;
let account: TestAccount;
let customer: CustomerDatabase;
let connectorId: number;
let dinaId: number;

beforeAll(async () => {
  stack = await startTestStack({ background: false, clock: { now: () => today } });
  account = await stack.createAccount();
  customer = await createCustomerDatabase(stack, { readOnly: true });
  await customer.admin.query(`
    CREATE TABLE promo_codes (id integer, email text, name text, birthday timestamptz, promo_code text);
    INSERT INTO promo_codes VALUES (2, 'kozak@example.com', 'Dina Kozak', '2020-09-02T00:00:00Z', 'AAAA-BBBB-DDDD'),
                                   (3, 'other@example.com', 'Other', '2020-01-01T00:00:00Z', 'ZZZZ');
  `);
  connectorId = (await stack.request(account, 'POST', '/api/v1/connectors', customer.connectorSettings())).body.id;
  dinaId = (await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'Dina', channels: [{ type: 'email', value: 'kozak@example.com' }] }))
    .body.id;
});
afterAll(async () => {
  await closeConnectorPools(stack.platform);
  await stack.stop();
  await customer.drop();
});

const newSource = (name: unknown, extra: Record<string, unknown> = {}) =>
  stack.request(account, 'POST', '/api/v1/datasources', { connectorId, dataset: 'public', table: 'promo_codes', name, ...extra });

const preview = (body: Record<string, unknown>) => stack.request(account, 'POST', '/api/v1/templates/render', body);

describe('data-source names (item 11)', () => {
  it("accepts the seed's Cyrillic name, spaces and hyphens, trimmed, and each works in $data.get('…') of a bulk preview", async () => {
    const cyrillic = await newSource('  назва_джерела ');
    expect(cyrillic.status).toBe(201);
    expect(cyrillic.body.name).toBe('назва_джерела');
    const spaced = await newSource('Промокоди - весна 2026');
    expect(spaced.status).toBe(201);
    const identifier = await newSource('promo_codes');
    expect(identifier.status).toBe(201);

    const rendered = await preview({
      contactId: dinaId,
      data: 'bulk',
      template:
        "$!data.get('назва_джерела').get(0).get('promo_code') | #foreach($pc in $!data.get('Промокоди - весна 2026'))$!pc.get('name')#end | $!data.promo_codes.get(0).promo_code",
    });
    expect(rendered.status).toBe(200);
    expect(rendered.body).toEqual({ output: 'AAAA-BBBB-DDDD | Dina Kozak | AAAA-BBBB-DDDD', contactId: dinaId });
  });

  it('keeps names unique per account ignoring case, and bounds them', async () => {
    const taken = await newSource('НАЗВА_ДЖЕРЕЛА');
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('SOURCE_NAME_TAKEN');
    for (const name of ['   ', 'x'.repeat(101), 'two\nlines', 'tab\there']) {
      const refused = await newSource(name);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    }
    const longest = await newSource('я'.repeat(100));
    expect(longest.status).toBe(201);
  });
});

describe('legacy ids (item 12)', () => {
  let sourceId: number;
  let segmentId: number;

  it('sets a legacy id on a source at create and through PATCH, unique per account', async () => {
    const source = await newSource('esputnik promo', { legacyId: 1043 });
    expect(source.status).toBe(201);
    expect(source.body).toMatchObject({ name: 'esputnik promo', legacyId: 1043 });
    sourceId = source.body.id;

    const again = await newSource('another', { legacyId: 1043 });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('LEGACY_ID_TAKEN');
    const plain = await newSource('plain');
    // Another source's own id cannot be a legacy id: data.get('<n>') would name two sources.
    const native = await stack.request(account, 'PATCH', `/api/v1/datasources/${sourceId}`, { legacyId: plain.body.id });
    expect(native.status).toBe(409);
    expect(native.body.error.code).toBe('LEGACY_ID_TAKEN');

    expect((await stack.request(account, 'PATCH', `/api/v1/datasources/${plain.body.id}`, { legacyId: 2001 })).body.legacyId).toBe(2001);
    expect((await stack.request(account, 'PATCH', `/api/v1/datasources/${plain.body.id}`, { legacyId: null })).body).toMatchObject({
      name: 'plain',
      legacyId: null,
    });
    expect((await stack.request(account, 'GET', `/api/v1/datasources/${sourceId}`)).body.legacyId).toBe(1043);
    // Another account may use the same legacy id.
    const other = await stack.createAccount();
    const otherConnector = await stack.request(other, 'POST', '/api/v1/connectors', customer.connectorSettings());
    const theirs = await stack.request(other, 'POST', '/api/v1/datasources', {
      connectorId: otherConnector.body.id,
      dataset: 'public',
      table: 'promo_codes',
      name: 'esputnik promo',
      legacyId: 1043,
    });
    expect(theirs.status).toBe(201);
  });

  it('sets a legacy id on a segment at create and through PATCH', async () => {
    const segment = await stack.request(account, 'POST', '/api/v1/groups', {
      name: 'День народження сьогодні',
      legacyId: 170531841,
      conditions: [{ source: sourceId, column: 'birthday', operator: 'dayAndMonthIsToday' }],
    });
    expect(segment.status).toBe(200);
    expect(segment.body.legacyId).toBe(170531841);
    segmentId = segment.body.id;
    const twice = await stack.request(account, 'POST', '/api/v1/groups', {
      name: 'dup',
      legacyId: 170531841,
      conditions: [{ field: 'externalCustomerId', operator: 'notSet' }],
    });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('LEGACY_ID_TAKEN');
    const renamed = await stack.request(account, 'PATCH', `/api/v1/group/${segmentId}`, { name: 'Birthday today' });
    expect(renamed.body).toMatchObject({ id: segmentId, name: 'Birthday today', legacyId: 170531841 });
  });

  it('emits regularEventType-<legacy segment id> with jsonParam keyed by the legacy source id, and the eSputnik template renders unchanged', async () => {
    const template = "<p>$!data.get('1043').get(0).get('name'): $!data.get('1043').get(0).get('promo_code')</p>";
    const message = await stack.request(account, 'POST', '/api/v1/messages/email', {
      name: 'birthday',
      subject: 'Happy birthday',
      htmlText: template,
      jsonParamField: 'jsonParam',
    });
    expect(message.status).toBe(201);
    const workflow = await stack.request(account, 'POST', '/api/v1/workflows/regular', {
      name: 'birthday',
      segmentId,
      sourceIds: [sourceId],
      messageId: message.body.id,
      schedule: 'rate(1 day)',
    });
    expect(workflow.body.eventTypeKey).toBe('regularEventType-170531841');
    const run = await stack.request(account, 'POST', `/api/v1/workflows/regular/${workflow.body.id}/run`);
    expect(run.body).toEqual({ queuedMembers: 1 });

    const assembler = createAssembler(stack.platform);
    const pages = await receiveRecords(stack.sqs, stack.queueUrls.triggerEvents, { max: 10 });
    expect(pages).toHaveLength(1);
    expect(await assembler({ Records: pages }, lambdaContext('assemble-trigger-events', 300_000))).toEqual({ batchItemFailures: [] });

    const { rows: events } = await stack.platform.db.query<{ key: string; params: { name: string; value: string }[] }>(
      'SELECT t.key, e.params FROM events e JOIN event_types t ON t.id = e.event_type_id WHERE e.account_id = $1 AND e.contact_id = $2',
      [account.accountId, dinaId],
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.key).toBe('regularEventType-170531841');
    expect(JSON.parse(events[0]!.params.find((param) => param.name === 'jsonParam')!.value)).toEqual({ 1043: [seedRow] });
    const { rows: sends } = await stack.platform.db.query<{ html_text: string }>(
      'SELECT html_text FROM message_sends WHERE account_id = $1 AND message_id = $2',
      [account.accountId, message.body.id],
    );
    expect(sends.map((send) => send.html_text)).toEqual(['<p>Dina Kozak: AAAA-BBBB-DDDD</p>']);
  });

  it('resolves the legacy id and the native id alike in a jsonParam given through the API', async () => {
    const byNative = JSON.stringify({ [String(sourceId)]: [seedRow] });
    const legacyTemplate = await preview({ contactId: dinaId, jsonParam: byNative, template: "$!data.get('1043').get(0).get('promo_code')" });
    expect(legacyTemplate.body.output).toBe('AAAA-BBBB-DDDD');
    const nativeTemplate = await preview({
      jsonParam: JSON.stringify({ 1043: [seedRow] }),
      template: `$!data.get('${sourceId}').get(0).get('promo_code')`,
    });
    expect(nativeTemplate.body.output).toBe('AAAA-BBBB-DDDD');

    const message = await stack.request(account, 'POST', '/api/v1/messages/email', {
      name: 'esputnik',
      subject: 's',
      htmlText: "$!data.get('1043').get(0).get('promo_code')",
    });
    const sent = await stack.request(account, 'POST', `/api/v1/message/${message.body.id}/smartsend`, {
      recipients: [{ contactId: dinaId, jsonParam: byNative }],
    });
    expect(sent.body.results).toEqual([expect.objectContaining({ status: 'OK' })]);
    const { rows } = await stack.platform.db.query<{ html_text: string }>('SELECT html_text FROM message_sends WHERE message_id = $1', [
      message.body.id,
    ]);
    expect(rows[0]!.html_text).toBe('AAAA-BBBB-DDDD');
  });
});

describe('bulk preview (item 5)', () => {
  it("renders for a contact with the rows a broadcast would read, and none of another contact's", async () => {
    const rendered = await preview({ locator: 'kozak@example.com', data: 'bulk', template: '#foreach($pc in $data.promo_codes)$pc.promo_code#end' });
    expect(rendered.status).toBe(200);
    expect(rendered.body.output).toBe('AAAA-BBBB-DDDD');
    const stranger = (
      await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'No rows', channels: [{ type: 'email', value: 'norows@example.com' }] })
    ).body.id;
    const empty = await preview({ contactId: stranger, data: 'bulk', template: '[$data.promo_codes.size()]' });
    expect(empty.body.output).toBe('[0]');
  });

  it('refuses bulk data without a contact, or together with jsonParam', async () => {
    const noContact = await preview({ data: 'bulk', template: '$data.promo_codes' });
    expect(noContact.status).toBe(400);
    const both = await preview({ contactId: dinaId, data: 'bulk', jsonParam: '{}', template: 'x' });
    expect(both.status).toBe(400);
  });
});
