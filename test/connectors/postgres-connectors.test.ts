import { createServer } from 'node:net';
import { freePort } from '../../local/free-port';
import { getConnector } from '../../shared/connectors/connector';
import { closeConnectorPools, withPostgresConnection } from '../../shared/connectors/postgres-pools';
import { keysOfContacts } from '../../shared/segments/evaluate-segment';
import { lookupRows } from '../../shared/sources/lookup';
import { getSource, getSourceByName, registerSourceUse } from '../../shared/sources/sources';
import { exactKeys } from './contact-keys';
import { createCustomerDatabase, startSilentServer, type CustomerDatabase } from '../support/customer-postgres';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

/** A loopback address of its own (all of 127/8 is loopback on Linux) for the default-port check. */
const DEFAULT_PORT_HOST = '127.0.0.77';

let stack: TestStack;
let account: TestAccount;
let customer: CustomerDatabase;
let readOnly: CustomerDatabase;

beforeAll(async () => {
  stack = await startTestStack({ background: false, env: { CONNECTOR_CONNECT_TIMEOUT_MS: '1500' } });
  account = await stack.createAccount();
  customer = await createCustomerDatabase(stack);
  readOnly = await createCustomerDatabase(stack, { readOnly: true });
  for (const database of [customer, readOnly]) {
    await database.admin.query(`
      CREATE TABLE promo_codes (id integer, email text, name text, birthday date, sent_at timestamptz, active boolean, promo_code text);
      INSERT INTO promo_codes VALUES
        (2, 'kozak@example.com', 'Dina Kozak', '2020-09-02', '2021-10-08 11:11:02.5+03', true, 'AAAA-BBBB-DDDD'),
        (3, 'kozak@example.com', 'Dina Kozak', '2020-09-02', NULL, false, 'CCCC-DDDD-EEEE'),
        (4, 'other@example.com', NULL, NULL, NULL, NULL, 'ZZZZ');
      CREATE SCHEMA crm;
      CREATE TABLE crm."Mixed Case" ("Customer Email" text, score numeric);`);
    await database.admin.query(`GRANT USAGE ON SCHEMA crm TO ${database.user}; GRANT SELECT ON ALL TABLES IN SCHEMA crm TO ${database.user}`);
  }
});
afterAll(async () => {
  await closeConnectorPools(stack.platform);
  await customer.drop();
  await readOnly.drop();
  await stack.stop();
});

describe('check connection (PostgreSQL)', () => {
  it('reports the server version, latency, read and export rights, and warns NOT_SSL on plain TCP', async () => {
    const response = await stack.request(
      account,
      'POST',
      '/api/v1/connectors/validate',
      customer.connectorSettings({ sslMode: 'prefer', name: undefined, uniqueKey: undefined }),
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      ok: true,
      kind: 'postgres',
      serverVersion: expect.stringMatching(/^\d+\.\d+/),
      latencyMs: expect.any(Number),
      ssl: false,
      privileges: { read: true, readableTables: 2, export: true },
      warnings: [{ code: 'NOT_SSL', message: expect.any(String) }],
    });
  });

  it('says a read-only role can read but not export', async () => {
    const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', readOnly.connectorSettings());
    expect(response.status).toBe(200);
    expect(response.body.privileges).toEqual({ read: true, readableTables: 2, export: false });
  });

  it('defaults the port to 5432', async () => {
    // The test's own listener on 5432, on a loopback address nothing else binds, so a local
    // PostgreSQL on 127.0.0.1:5432 changes nothing: the check must knock here, and is cut off.
    let knocks = 0;
    const listener = createServer((socket) => {
      knocks += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(5432, DEFAULT_PORT_HOST, resolve);
    });
    try {
      const settings = customer.connectorSettings({ host: DEFAULT_PORT_HOST });
      delete settings.port;
      const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', settings);
      expect(response.body.error).toEqual({ code: 'CONNECTION_FAILED', message: expect.stringContaining(`${DEFAULT_PORT_HOST}:5432`) });
      expect(knocks).toBeGreaterThan(0);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it.each([
    ['a wrong password', () => ({ password: 'not-the-password' }), 'AUTHENTICATION_FAILED'],
    ['an unknown role', () => ({ user: 'nobody_here' }), 'AUTHENTICATION_FAILED'],
    ['an unknown database', () => ({ database: 'no_such_database' }), 'DATABASE_NOT_FOUND'],
    // The server's message quotes the name; the name must not read as a timeout or a certificate error.
    ['an unknown database named like another failure', () => ({ database: 'timeout_certificate_db' }), 'DATABASE_NOT_FOUND'],
    ['an unknown role named like another failure', () => ({ user: 'timeout' }), 'AUTHENTICATION_FAILED'],
    ['an unresolvable host', () => ({ host: 'customer-db.invalid' }), 'DNS_NOT_FOUND'],
    ['a server without SSL and sslMode require', () => ({ sslMode: 'require' }), 'SSL_NOT_SUPPORTED'],
  ])('answers 422 with a distinct code for %s, never echoing the password', async (_, overrides, code) => {
    const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', customer.connectorSettings(overrides()));
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe(code);
    expect(response.text).not.toContain(customer.password);
  });

  it('answers CONNECTION_REFUSED for a closed port', async () => {
    const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', customer.connectorSettings({ port: await freePort() }));
    expect(response.body.error.code).toBe('CONNECTION_REFUSED');
  });

  it('answers CONNECTION_TIMEOUT for a server that accepts and never answers', async () => {
    const silent = await startSilentServer();
    try {
      const response = await stack.request(account, 'POST', '/api/v1/connectors/validate', customer.connectorSettings({ port: silent.port }));
      expect(response.body.error.code).toBe('CONNECTION_TIMEOUT');
    } finally {
      await silent.stop();
    }
  });

  it('validates the settings at the edge', async () => {
    const response = await stack.request(
      account,
      'POST',
      '/api/v1/connectors/validate',
      customer.connectorSettings({ port: 70000, sslMode: 'sometimes', host: 'bad host!' }),
    );
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((detail: { path: string }) => detail.path).sort()).toEqual(['body.host', 'body.port', 'body.sslMode']);
  });
});

describe('connectors CRUD', () => {
  it('saves a connector, keeps the password in the secrets port only, and checks it after saving', async () => {
    const createdResponse = await stack.request(account, 'POST', '/api/v1/connectors', customer.connectorSettings({ name: 'Shop DB' }));
    expect(createdResponse.status).toBe(201);
    expect(createdResponse.body).toEqual({
      id: expect.any(Number),
      kind: 'postgres',
      name: 'Shop DB',
      uniqueKey: { column: 'email', contactField: 'email' },
      postgres: { host: customer.host, port: customer.port, database: customer.database, user: customer.user, sslMode: 'disable', schema: 'public' },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const id = createdResponse.body.id as number;

    const stored = await stack.platform.db.query('SELECT settings::text AS settings, secret_ref FROM connectors WHERE id = $1', [id]);
    expect(stored.rows[0].settings).not.toContain(customer.password);
    const secret = await stack.platform.db.query('SELECT ciphertext FROM local_secrets');
    expect(Buffer.concat(secret.rows.map((row: { ciphertext: Buffer }) => row.ciphertext)).toString('latin1')).not.toContain(customer.password);

    for (const path of ['/api/v1/connectors', `/api/v1/connectors/${id}`]) {
      const read = await stack.request(account, 'GET', path);
      expect(read.status).toBe(200);
      expect(read.text).not.toContain(customer.password);
    }

    const check = await stack.request(account, 'POST', `/api/v1/connectors/${id}/validate`);
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ ok: true, ssl: false, warnings: [{ code: 'NOT_SSL' }] });

    // An update without a password keeps the stored one.
    const updated = await stack.request(account, 'PUT', `/api/v1/connectors/${id}`, {
      ...customer.connectorSettings({ name: 'Shop database' }),
      password: undefined,
    });
    expect(updated.status).toBe(200);
    expect(updated.body.name).toBe('Shop database');
    expect((await stack.request(account, 'POST', `/api/v1/connectors/${id}/validate`)).status).toBe(200);
    // Pointing it at another server needs the password again: the stored one never goes where it was not given for.
    for (const moved of [{ host: 'elsewhere.example' }, { port: 6543 }, { user: 'someone_else' }, { sslMode: 'require' }]) {
      const refused = await stack.request(account, 'PUT', `/api/v1/connectors/${id}`, {
        ...customer.connectorSettings({ name: 'Shop database', ...moved }),
        password: undefined,
      });
      expect([moved, refused.status, refused.body.error?.code]).toEqual([moved, 400, 'PASSWORD_REQUIRED']);
    }

    const duplicate = await stack.request(account, 'POST', '/api/v1/connectors', customer.connectorSettings({ name: 'Shop database' }));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('CONNECTOR_NAME_TAKEN');

    expect((await stack.request(account, 'DELETE', `/api/v1/connectors/${id}`)).status).toBe(204);
    expect((await stack.request(account, 'GET', `/api/v1/connectors/${id}`)).body.error.code).toBe('CONNECTOR_NOT_FOUND');
    expect(
      (await stack.platform.db.query('SELECT 1 FROM local_secrets WHERE name = $1', [`connectors/${account.accountId}/${id}`])).rows,
    ).toHaveLength(0);
  });

  it('keeps the schema it names (public by default), warns at Check connection when the schema is missing, and exports there by default', async () => {
    await customer.admin.query(`CREATE SCHEMA IF NOT EXISTS marketing AUTHORIZATION ${customer.user}`);
    const created = await stack.request(
      account,
      'POST',
      '/api/v1/connectors',
      customer.connectorSettings({ name: 'Marketing', schema: 'marketing' }),
    );
    expect(created.status).toBe(201);
    expect(created.body.postgres.schema).toBe('marketing');
    const id = created.body.id as number;
    const check = await stack.request(account, 'POST', `/api/v1/connectors/${id}/validate`);
    expect(check.body.warnings.map((warning: { code: string }) => warning.code)).not.toContain('SCHEMA_NOT_FOUND');
    const exported = await stack.request(account, 'POST', '/api/v1/exports', { connectorId: id, datasets: ['contacts'] });
    expect(exported.status).toBe(201);
    expect(exported.body.schema).toBe('marketing');

    // Another schema is a setting of the same server: no password needed to change it.
    const moved = await stack.request(account, 'PUT', `/api/v1/connectors/${id}`, {
      ...customer.connectorSettings({ name: 'Marketing', schema: 'nowhere' }),
      password: undefined,
    });
    expect(moved.status).toBe(200);
    expect((await stack.request(account, 'GET', `/api/v1/connectors/${id}`)).body.postgres.schema).toBe('nowhere');
    const missing = await stack.request(account, 'POST', `/api/v1/connectors/${id}/validate`);
    expect(missing.status).toBe(200);
    expect(missing.body.warnings).toContainEqual({ code: 'SCHEMA_NOT_FOUND', message: expect.stringContaining('"nowhere"') });
    expect((await stack.request(account, 'DELETE', `/api/v1/exports/${exported.body.id}`)).status).toBe(204);
    expect((await stack.request(account, 'DELETE', `/api/v1/connectors/${id}`)).status).toBe(204);
  });

  it('accepts the contact key fields of the seed and refuses others', async () => {
    for (const contactField of ['externalCustomerId', 'phone', 'contactId', 'field:12345']) {
      const response = await stack.request(
        account,
        'POST',
        '/api/v1/connectors',
        customer.connectorSettings({ name: `Key ${contactField}`, uniqueKey: { column: 'id', contactField } }),
      );
      expect(response.status).toBe(201);
      expect(response.body.uniqueKey.contactField).toBe(contactField === 'phone' ? 'sms' : contactField);
    }
    const refused = await stack.request(
      account,
      'POST',
      '/api/v1/connectors',
      customer.connectorSettings({ name: 'Bad key', uniqueKey: { column: 'id', contactField: 'shoeSize' } }),
    );
    expect(refused.status).toBe(400);
  });

  it('keeps accounts apart', async () => {
    const mine = await stack.request(account, 'POST', '/api/v1/connectors', customer.connectorSettings({ name: 'Private' }));
    const other = await stack.createAccount();
    expect((await stack.request(other, 'GET', `/api/v1/connectors/${mine.body.id}`)).status).toBe(404);
    expect((await stack.request(other, 'POST', `/api/v1/connectors/${mine.body.id}/validate`)).status).toBe(404);
  });

  it('needs the settings right', async () => {
    const limited = await stack.createAccount({ rights: 'events' });
    expect((await stack.request(limited, 'GET', '/api/v1/connectors')).status).toBe(403);
  });
});

describe('browsing and data sources', () => {
  let connectorId: number;

  beforeAll(async () => {
    const response = await stack.request(account, 'POST', '/api/v1/connectors', readOnly.connectorSettings({ name: 'Read-only CRM' }));
    connectorId = response.body.id;
  });

  it('lists schemas, tables and columns with types, paged', async () => {
    const datasets = await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets`);
    expect(datasets.body).toEqual({ datasets: [{ name: 'crm' }, { name: 'public' }] });
    const firstPage = await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets?limit=1`);
    expect(firstPage.body).toEqual({ datasets: [{ name: 'crm' }], nextPageToken: '1' });
    const secondPage = await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets?limit=1&pageToken=1`);
    expect(secondPage.body).toEqual({ datasets: [{ name: 'public' }] });
    for (const token of ['99999999999999999999', '-1', 'abc']) {
      const foreign = await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets?pageToken=${token}`);
      expect([token, foreign.status, foreign.body.error?.code]).toEqual([token, 400, 'INVALID_PAGE_TOKEN']);
    }

    const tables = await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets/crm/tables`);
    expect(tables.body).toEqual({ tables: [{ name: 'Mixed Case', type: 'TABLE' }] });
    const columns = await stack.request(
      account,
      'GET',
      `/api/v1/connectors/${connectorId}/datasets/crm/tables/${encodeURIComponent('Mixed Case')}/columns`,
    );
    expect(columns.body).toEqual({
      columns: [
        { name: 'Customer Email', type: 'text', nullable: true },
        { name: 'score', type: 'numeric', nullable: true },
      ],
    });

    const missing = await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets/nope/tables`);
    expect(missing.status).toBe(422);
    expect(missing.body.error.code).toBe('DATASET_NOT_FOUND');
    expect((await stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets?limit=5000`)).status).toBe(400);
  });

  it('saves a source only for an existing table that holds the unique key column', async () => {
    const noTable = await stack.request(account, 'POST', '/api/v1/datasources', { connectorId, dataset: 'public', table: 'nope', name: 'nope' });
    expect(noTable.body.error.code).toBe('TABLE_NOT_FOUND');
    const noKey = await stack.request(account, 'POST', '/api/v1/datasources', { connectorId, dataset: 'crm', table: 'Mixed Case', name: 'mixed' });
    expect(noKey.status).toBe(422);
    expect(noKey.body.error.code).toBe('UNIQUE_KEY_COLUMN_MISSING');
    // Any name $data.get('…') can hold is accepted (issue 20); a line break is not one.
    const badName = await stack.request(account, 'POST', '/api/v1/datasources', {
      connectorId,
      dataset: 'public',
      table: 'promo_codes',
      name: 'promo\ncodes',
    });
    expect(badName.status).toBe(400);
  });

  it('looks rows up by contact key in one query, values as strings and timestamps in UTC', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/datasources', {
      connectorId,
      dataset: 'public',
      table: 'promo_codes',
      name: 'promo_codes',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(Number), connectorId, dataset: 'public', table: 'promo_codes', name: 'promo_codes' });
    const source = await getSourceByName(stack.platform.db, account.accountId, 'promo_codes');
    expect(source.id).toBe(created.body.id);

    const rows = await lookupRows(stack.platform, source, exactKeys('kozak@example.com', 'nobody@example.com'));
    expect(rows.get('nobody@example.com')).toEqual([]);
    expect(rows.get('kozak@example.com')).toEqual([
      {
        id: '2',
        email: 'kozak@example.com',
        name: 'Dina Kozak',
        birthday: '2020-09-02T00:00:00Z',
        sent_at: '2021-10-08T08:11:02.5Z',
        active: 'true',
        promo_code: 'AAAA-BBBB-DDDD',
      },
      {
        id: '3',
        email: 'kozak@example.com',
        name: 'Dina Kozak',
        birthday: '2020-09-02T00:00:00Z',
        sent_at: null,
        active: 'false',
        promo_code: 'CCCC-DDDD-EEEE',
      },
    ]);
  });

  it('finds an email key as the contact spelled it or lower-cased, and a phone as digits or +digits', async () => {
    await customer.admin.query(`
      CREATE TABLE public.loyalty (email text, phone text, tier text);
      INSERT INTO public.loyalty VALUES ('Olena.Mixed@Example.com', NULL, 'gold'), ('taras@example.com', NULL, 'silver'), (NULL, '+380671234567', 'bronze');
      GRANT SELECT ON public.loyalty TO ${customer.user};`);
    const byEmail = await stack.request(
      account,
      'POST',
      '/api/v1/connectors',
      customer.connectorSettings({ name: 'Loyalty by email', uniqueKey: { column: 'email', contactField: 'email' } }),
    );
    const byPhone = await stack.request(
      account,
      'POST',
      '/api/v1/connectors',
      customer.connectorSettings({ name: 'Loyalty by phone', uniqueKey: { column: 'phone', contactField: 'sms' } }),
    );
    const emailSource = await stack.request(account, 'POST', '/api/v1/datasources', {
      connectorId: byEmail.body.id,
      dataset: 'public',
      table: 'loyalty',
      name: 'loyalty_email',
    });
    const phoneSource = await stack.request(account, 'POST', '/api/v1/datasources', {
      connectorId: byPhone.body.id,
      dataset: 'public',
      table: 'loyalty',
      name: 'loyalty_phone',
    });
    const contact = async (externalCustomerId: string, channels: { type: string; value: string }[]) =>
      (await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId, channels })).body.id as number;
    const olena = await contact('loyal-1', [{ type: 'email', value: 'Olena.Mixed@Example.com' }]);
    const taras = await contact('loyal-2', [
      { type: 'email', value: 'Taras@Example.com' },
      { type: 'sms', value: '+38 (067) 123-45-67' },
    ]);

    const emailKeys = await keysOfContacts(stack.platform.db, account.accountId, 'email', [olena, taras]);
    const byEmailRows = await lookupRows(stack.platform, await getSource(stack.platform.db, account.accountId, emailSource.body.id), emailKeys);
    expect(emailKeys.map((key) => byEmailRows.get(key.key!)?.map((row) => row.tier))).toEqual([['gold'], ['silver']]);
    const phoneKeys = await keysOfContacts(stack.platform.db, account.accountId, 'sms', [taras]);
    const byPhoneRows = await lookupRows(stack.platform, await getSource(stack.platform.db, account.accountId, phoneSource.body.id), phoneKeys);
    expect(byPhoneRows.get(phoneKeys[0]!.key!)?.map((row) => row.tier)).toEqual(['bronze']);
  });

  it('looks up by a numeric key column, and a key that is not a number simply matches nothing', async () => {
    const numeric = await stack.request(
      account,
      'POST',
      '/api/v1/connectors',
      readOnly.connectorSettings({ name: 'By id', uniqueKey: { column: 'id', contactField: 'contactId' } }),
    );
    const created = await stack.request(account, 'POST', '/api/v1/datasources', {
      connectorId: numeric.body.id,
      dataset: 'public',
      table: 'promo_codes',
      name: 'promo_by_id',
    });
    const source = await getSource(stack.platform.db, account.accountId, created.body.id);
    const rows = await lookupRows(stack.platform, source, exactKeys('4', 'not-a-number'));
    expect(rows.get('4')?.map((row) => row.promo_code)).toEqual(['ZZZZ']);
    expect(rows.get('not-a-number')).toEqual([]);
  });

  it('renames, refuses to delete a source in use without force, and a connector that feeds sources', async () => {
    const created = await stack.request(account, 'POST', '/api/v1/datasources', {
      connectorId,
      dataset: 'public',
      table: 'promo_codes',
      name: 'birthdays',
    });
    const id = created.body.id as number;
    const renamed = await stack.request(account, 'PATCH', `/api/v1/datasources/${id}`, { name: 'birthday_codes' });
    expect(renamed.body.name).toBe('birthday_codes');
    const taken = await stack.request(account, 'PATCH', `/api/v1/datasources/${id}`, { name: 'promo_codes' });
    expect(taken.body.error.code).toBe('SOURCE_NAME_TAKEN');

    expect((await stack.request(account, 'DELETE', `/api/v1/connectors/${connectorId}`)).body.error.code).toBe('CONNECTOR_IN_USE');

    await registerSourceUse(stack.platform.db, id, { kind: 'segment', id: '170531841' });
    const segment = await stack.request(account, 'POST', '/api/v1/groups', {
      name: 'Everyone without an ID',
      conditions: [{ field: 'externalCustomerId', operator: 'notSet' }],
    });
    const workflow = await stack.request(account, 'POST', '/api/v1/workflows/regular', {
      name: 'Birthdays',
      segmentId: segment.body.id,
      sourceIds: [id],
      schedule: 'rate(1 day)',
    });
    expect(workflow.status).toBe(201);
    const refused = await stack.request(account, 'DELETE', `/api/v1/datasources/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SOURCE_IN_USE');
    expect((await stack.request(account, 'DELETE', `/api/v1/datasources/${id}?force=true`)).status).toBe(204);
    expect((await stack.request(account, 'GET', `/api/v1/datasources/${id}`)).status).toBe(404);
    // The workflow goes on without the source instead of failing every run.
    expect((await stack.request(account, 'GET', `/api/v1/workflows/regular/${workflow.body.id}`)).body.sourceIds).toEqual([]);
    expect((await stack.request(account, 'POST', `/api/v1/workflows/regular/${workflow.body.id}/run`)).status).toBeLessThan(300);

    const listed = await stack.request(account, 'GET', `/api/v1/datasources?connectorId=${connectorId}`);
    expect(listed.body.datasources.map((source: { name: string }) => source.name)).toEqual(['promo_codes']);
  });

  it('runs lookups read-only, so a writable role still cannot change the customer data through them', async () => {
    const connector = await getConnector(stack.platform.db, account.accountId, connectorId);
    expect(connector.postgres?.sslMode).toBe('disable');
    const writer = await stack.request(account, 'POST', '/api/v1/connectors', customer.connectorSettings({ name: 'Writer' }));
    const writerConnector = await getConnector(stack.platform.db, account.accountId, writer.body.id);
    await expect(withPostgresConnection(stack.platform, writerConnector, (client) => client.query('DELETE FROM promo_codes'))).rejects.toMatchObject({
      code: 'READ_ONLY_DESTINATION',
    });
    await withPostgresConnection(stack.platform, writerConnector, (client) => client.query('CREATE TABLE export_probe (id int)'), {
      readOnly: false,
    });
    expect((await customer.admin.query("SELECT to_regclass('public.export_probe') AS found")).rows[0].found).toBe('export_probe');
  });
});

describe('production destinations', () => {
  it('refuses loopback hosts before connecting when running in production mode', async () => {
    const production = await startTestStack({ background: false, env: { SATELLITE_PRODUCTION: 'true' } });
    try {
      const owner = await production.createAccount();
      const response = await production.request(owner, 'POST', '/api/v1/connectors/validate', customer.connectorSettings());
      expect(response.status).toBe(422);
      expect(response.body.error.code).toBe('DESTINATION_NOT_ALLOWED');
    } finally {
      await production.stop();
    }
  });
});
