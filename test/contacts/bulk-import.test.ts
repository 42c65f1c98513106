import { Pool, type PoolClient } from 'pg';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

/** Polls the status endpoint until the job is done (the imports queue consumer runs it). */
async function finished(account: TestAccount, sessionId: string) {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const status = await stack.request(account, 'GET', `/api/v1/importstatus/${sessionId}`);
    expect(status.status).toBe(200);
    if (status.body.status === 'FINISHED' || status.body.status === 'FAILED') return status.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('import did not finish');
}

async function contactsByExternalId(accountId: number) {
  const { rows } = await stack.platform.db.query(
    `SELECT c.external_customer_id AS ext, c.first_name, c.last_name, c.source, c.deleted_at IS NOT NULL AS deleted,
            (SELECT array_agg(ch.normalized ORDER BY ch.type) FROM contact_channels ch WHERE ch.contact_id = c.id) AS channels
       FROM contacts c WHERE c.account_id = $1 ORDER BY c.id`,
    [accountId],
  );
  return rows;
}

describe('POST /api/v1/contacts (bulk add/update through the imports queue)', () => {
  it('imports 3000 contacts and reports progress and the result', async () => {
    const account = await stack.createAccount();
    const contacts = Array.from({ length: 3000 }, (_, index) => ({
      externalCustomerId: `bulk-${index}`,
      firstName: `First ${index}`,
      channels: [{ type: 'email', value: `bulk${index}@example.com` }],
      fields: [{ id: 7, value: index }],
    }));
    const started = await stack.request(account, 'POST', '/api/v1/contacts', { contacts, dedupeOn: 'externalCustomerId' });
    expect(started.status).toBe(200);
    expect(started.body.asyncSessionId).toMatch(/^[0-9a-f-]{36}$/);
    const result = await finished(account, started.body.asyncSessionId);
    expect(result).toMatchObject({ status: 'FINISHED', total: 3000, processed: 3000, created: 3000, updated: 0, failed: 0, errors: [] });
    const count = await stack.platform.db.query(`SELECT count(*)::int AS n FROM contacts WHERE account_id = $1 AND source = 'IMPORT'`, [
      account.accountId,
    ]);
    expect(count.rows[0].n).toBe(3000);
    const search = await stack.request(account, 'GET', '/api/v1/contacts?externalCustomerId=bulk-2999');
    expect(search.body[0]).toMatchObject({
      firstName: 'First 2999',
      channels: [{ type: 'email', value: 'bulk2999@example.com' }],
      fields: [{ id: 7, value: 2999 }],
    });

    // The stored request (3000 people's data) is released once the job has ended; the session keeps its result.
    const stored = await stack.platform.db.query('SELECT request IS NULL AS released FROM contact_import_jobs WHERE id = $1', [
      started.body.asyncSessionId,
    ]);
    expect(stored.rows[0].released).toBe(true);
    expect((await stack.request(account, 'GET', `/api/v1/importstatus/${started.body.asyncSessionId}`)).body).toMatchObject({
      status: 'FINISHED',
      created: 3000,
    });
  });

  it('dedupes on email while adding external IDs, matching rows with an external ID by it first', async () => {
    const account = await stack.createAccount();
    const byEmail = await stack.request(account, 'POST', '/api/v1/contact', {
      firstName: 'Old',
      channels: [{ type: 'email', value: 'one@example.com' }],
    });
    const byExt = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'ext-2',
      channels: [{ type: 'email', value: 'two@example.com' }],
    });
    const started = await stack.request(account, 'POST', '/api/v1/contacts', {
      dedupeOn: 'email',
      contacts: [
        { externalCustomerId: 'ext-1', firstName: 'New', channels: [{ type: 'email', value: 'ONE@example.com' }] },
        // Matched by its external ID, although its email is new.
        { externalCustomerId: 'ext-2', firstName: 'Moved', channels: [{ type: 'email', value: 'moved@example.com' }] },
        { firstName: 'Fresh', channels: [{ type: 'email', value: 'fresh@example.com' }] },
        // The same new email twice in one request makes one contact; the later row wins.
        { firstName: 'Twin A', channels: [{ type: 'email', value: 'twin@example.com' }] },
        { lastName: 'Twin B', channels: [{ type: 'email', value: 'twin@example.com' }] },
      ],
    });
    const result = await finished(account, started.body.asyncSessionId);
    expect(result).toMatchObject({ status: 'FINISHED', created: 2, updated: 2, failed: 0 });
    const one = await stack.request(account, 'GET', `/api/v1/contact/${byEmail.body.id}`);
    expect(one.body).toMatchObject({ externalCustomerId: 'ext-1', firstName: 'New' });
    const two = await stack.request(account, 'GET', `/api/v1/contact/${byExt.body.id}`);
    expect(two.body).toMatchObject({ firstName: 'Moved', channels: [{ type: 'email', value: 'moved@example.com' }] });
    const twins = await stack.request(account, 'GET', '/api/v1/contacts?email=twin@example.com');
    expect(twins.body).toHaveLength(1);
    expect(twins.body[0]).toMatchObject({ firstName: 'Twin A', lastName: 'Twin B' });
  });

  it('sends every row with the same new external ID to the contact the first of them resolves to', async () => {
    const account = await stack.createAccount();
    const a = (await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'A', channels: [{ type: 'email', value: 'a@x.com' }] })).body.id;
    const b = (await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'B', channels: [{ type: 'email', value: 'b@x.com' }] })).body.id;
    const c = (await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'C', channels: [{ type: 'email', value: 'c@x.com' }] })).body.id;
    const d = (await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'D', channels: [{ type: 'email', value: 'd@x.com' }] })).body.id;
    const fillers = Array.from({ length: 600 }, (_, index) => ({
      firstName: `Filler ${index}`,
      channels: [{ type: 'email', value: `filler${index}@x.com` }],
    }));
    const started = await stack.request(account, 'POST', '/api/v1/contacts', {
      dedupeOn: 'email',
      contacts: [
        // Both emails match, but X names one contact: the second row is merged into A.
        { externalCustomerId: 'X', firstName: 'First', channels: [{ type: 'email', value: 'a@x.com' }] },
        { externalCustomerId: 'X', lastName: 'Second', channels: [{ type: 'email', value: 'b@x.com' }] },
        // A row that would create a contact joins the contact its ID's first row matched ...
        { externalCustomerId: 'Y', firstName: 'Matched', channels: [{ type: 'email', value: 'c@x.com' }] },
        { externalCustomerId: 'Y', lastName: 'Joined' },
        // ... and a row that matches by email joins the new contact its ID's first row creates.
        { externalCustomerId: 'Z', firstName: 'Created' },
        { externalCustomerId: 'Z', lastName: 'Joined', channels: [{ type: 'email', value: 'd@x.com' }] },
        // The chunk after commits too.
        ...fillers,
      ],
    });
    const result = await finished(account, started.body.asyncSessionId);
    expect(result).toMatchObject({ status: 'FINISHED', total: 606, processed: 606, created: 601, updated: 2, failed: 0, errors: [] });

    const read = async (id: number) => (await stack.request(account, 'GET', `/api/v1/contact/${id}`)).body;
    expect(await read(a)).toMatchObject({
      externalCustomerId: 'X',
      firstName: 'First',
      lastName: 'Second',
      channels: [{ type: 'email', value: 'b@x.com' }],
    });
    expect(await read(b)).toMatchObject({ externalCustomerId: null, firstName: 'B', channels: [{ type: 'email', value: 'b@x.com' }] });
    expect(await read(c)).toMatchObject({
      externalCustomerId: 'Y',
      firstName: 'Matched',
      lastName: 'Joined',
      channels: [{ type: 'email', value: 'c@x.com' }],
    });
    expect(await read(d)).toMatchObject({ externalCustomerId: null, firstName: 'D', lastName: null });
    const z = await stack.request(account, 'GET', '/api/v1/contacts?externalCustomerId=Z');
    expect(z.body).toHaveLength(1);
    expect(z.body[0]).toMatchObject({ firstName: 'Created', lastName: 'Joined', channels: [{ type: 'email', value: 'd@x.com' }] });
    expect(await contactsByExternalId(account.accountId)).toHaveLength(4 + 1 + 600);
  });

  it('sends rows with an external ID already stored to its contact, whatever their emails match', async () => {
    const account = await stack.createAccount();
    const owner = (
      await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'X', channels: [{ type: 'email', value: 'owner@x.com' }] })
    ).body.id;
    await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'A', channels: [{ type: 'email', value: 'a@x.com' }] });
    const started = await stack.request(account, 'POST', '/api/v1/contacts', {
      dedupeOn: 'email',
      contacts: [
        { externalCustomerId: 'X', firstName: 'First', channels: [{ type: 'email', value: 'a@x.com' }] },
        { externalCustomerId: 'X', lastName: 'Second', channels: [{ type: 'email', value: 'new@x.com' }] },
      ],
    });
    expect(await finished(account, started.body.asyncSessionId)).toMatchObject({ status: 'FINISHED', created: 0, updated: 1, failed: 0 });
    expect((await stack.request(account, 'GET', `/api/v1/contact/${owner}`)).body).toMatchObject({
      firstName: 'First',
      lastName: 'Second',
      channels: [{ type: 'email', value: 'new@x.com' }],
    });
    expect(await contactsByExternalId(account.accountId)).toEqual([
      expect.objectContaining({ ext: 'X', first_name: 'First', channels: ['new@x.com'] }),
      expect.objectContaining({ ext: null, first_name: 'A', channels: ['a@x.com'] }),
    ]);
  });

  it('matches a row by the external ID a row of an earlier chunk created', async () => {
    const account = await stack.createAccount();
    const fillers = Array.from({ length: 499 }, (_, index) => ({ firstName: `Filler ${index}` }));
    const started = await stack.request(account, 'POST', '/api/v1/contacts', {
      dedupeOn: 'email',
      contacts: [
        { externalCustomerId: 'X', firstName: 'First' },
        ...fillers,
        { externalCustomerId: 'X', lastName: 'Second', channels: [{ type: 'email', value: 'x@x.com' }] },
      ],
    });
    expect(await finished(account, started.body.asyncSessionId)).toMatchObject({
      status: 'FINISHED',
      processed: 501,
      created: 500,
      updated: 1,
      failed: 0,
    });
    const x = await stack.request(account, 'GET', '/api/v1/contacts?externalCustomerId=X');
    expect(x.body).toHaveLength(1);
    expect(x.body[0]).toMatchObject({ firstName: 'First', lastName: 'Second', channels: [{ type: 'email', value: 'x@x.com' }] });
  });

  it('makes new rows that share an email or a phone one contact, in one chunk as across chunks', async () => {
    const account = await stack.createAccount();
    const rows = [
      {
        firstName: 'Both',
        channels: [
          { type: 'email', value: 'both@x.com' },
          { type: 'sms', value: '+380501112233' },
        ],
      },
      { lastName: 'Phone only', channels: [{ type: 'sms', value: '380501112233' }] },
      { externalCustomerId: 'crm-9', firstName: 'With ID', channels: [{ type: 'email', value: 'id@x.com' }] },
      { lastName: 'Same email, no ID', channels: [{ type: 'email', value: 'ID@x.com' }] },
    ];
    const fillers = Array.from({ length: 500 }, (_, index) => ({ firstName: `Filler ${index}` }));
    const oneChunk = await stack.request(account, 'POST', '/api/v1/contacts', { dedupeOn: 'email_or_sms', contacts: [...rows, ...fillers] });
    expect(await finished(account, oneChunk.body.asyncSessionId)).toMatchObject({ status: 'FINISHED', created: 502, updated: 0, failed: 0 });
    const found = async (query: string) =>
      (await stack.request(account, 'GET', `/api/v1/contacts?${query}`)).body as {
        firstName?: string;
        lastName?: string;
        externalCustomerId?: string;
      }[];
    expect(await found('sms=380501112233')).toEqual([expect.objectContaining({ firstName: 'Both', lastName: 'Phone only' })]);
    expect(await found('email=id@x.com')).toEqual([
      expect.objectContaining({ externalCustomerId: 'crm-9', firstName: 'With ID', lastName: 'Same email, no ID' }),
    ]);

    // The same rows split over two chunks end the same way.
    const other = await stack.createAccount();
    const split = await stack.request(other, 'POST', '/api/v1/contacts', {
      dedupeOn: 'email_or_sms',
      contacts: [rows[0], rows[2], ...fillers.slice(0, 498), rows[1], rows[3]],
    });
    expect(await finished(other, split.body.asyncSessionId)).toMatchObject({ status: 'FINISHED', created: 500, updated: 2, failed: 0 });
    const inOther = async (query: string) => (await stack.request(other, 'GET', `/api/v1/contacts?${query}`)).body as unknown[];
    expect(await inOther('sms=380501112233')).toHaveLength(1);
    expect(await inOther('email=id@x.com')).toHaveLength(1);
  });

  it('lets an external ID that is not written (contactFields) claim no matched contact, as across chunks', async () => {
    const account = await stack.createAccount();
    const a = (await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'A', channels: [{ type: 'email', value: 'a@x.com' }] })).body.id;
    const b = (await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'B', channels: [{ type: 'email', value: 'b@x.com' }] })).body.id;
    const started = await stack.request(account, 'POST', '/api/v1/contacts', {
      dedupeOn: 'email',
      contactFields: ['firstName'],
      contacts: [
        { externalCustomerId: 'X', firstName: 'A2', channels: [{ type: 'email', value: 'a@x.com' }] },
        { externalCustomerId: 'X', firstName: 'B2', channels: [{ type: 'email', value: 'b@x.com' }] },
      ],
    });
    expect(await finished(account, started.body.asyncSessionId)).toMatchObject({ status: 'FINISHED', created: 0, updated: 2, failed: 0 });
    for (const [id, firstName] of [
      [a, 'A2'],
      [b, 'B2'],
    ] as const) {
      expect((await stack.request(account, 'GET', `/api/v1/contact/${id}`)).body).toMatchObject({ externalCustomerId: null, firstName });
    }
  });

  it('reports the rows whose external ID other writers keep taking as EXTERNAL_ID_CONFLICT, and applies the rest', async () => {
    const account = await stack.createAccount();
    // Three writers each hold an uncommitted contact with one of the rows' IDs: the import's
    // match cannot see it and its write waits for it. Each commits once the import waits on
    // it, so every attempt at the chunk meets an ID taken since its match.
    const writers = new Pool({ connectionString: stack.databaseUrl, max: 3 });
    const holding: { client: PoolClient; pid: number }[] = [];
    try {
      for (const n of [1, 2, 3]) {
        const client = await writers.connect();
        await client.query('BEGIN');
        await client.query('INSERT INTO contacts (account_id, external_customer_id, first_name) VALUES ($1, $2, $3)', [
          account.accountId,
          `race-${n}`,
          `Writer ${n}`,
        ]);
        holding.push({ client, pid: (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid });
      }
      const started = await stack.request(account, 'POST', '/api/v1/contacts', {
        dedupeOn: 'email',
        contacts: [
          { externalCustomerId: 'race-1', lastName: 'Row 1' },
          { externalCustomerId: 'race-2', lastName: 'Row 2' },
          { externalCustomerId: 'race-3', lastName: 'Row 3' },
          { firstName: 'Bystander' },
        ],
      });
      for (let polls = 0; holding.length > 0; polls += 1) {
        if (polls > 400) throw new Error('the import never waited on a writer');
        const waitedOn = await stack.platform.db.query<{ pid: number }>('SELECT DISTINCT unnest(pg_blocking_pids(pid)) AS pid FROM pg_stat_activity');
        const writer = holding.find((held) => waitedOn.rows.some((row) => row.pid === held.pid));
        if (!writer) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        await writer.client.query('COMMIT');
        writer.client.release();
        holding.splice(holding.indexOf(writer), 1);
      }

      // The first two rows are matched again and update the writers' contacts; the third met
      // a taken ID on the last attempt too.
      expect(await finished(account, started.body.asyncSessionId)).toMatchObject({
        status: 'FINISHED',
        processed: 4,
        created: 1,
        updated: 2,
        failed: 1,
        errors: [{ index: 2, code: 'EXTERNAL_ID_CONFLICT', message: expect.stringContaining('race-3') }],
      });
      expect(await contactsByExternalId(account.accountId)).toEqual([
        expect.objectContaining({ ext: 'race-1', first_name: 'Writer 1', last_name: 'Row 1' }),
        expect.objectContaining({ ext: 'race-2', first_name: 'Writer 2', last_name: 'Row 2' }),
        expect.objectContaining({ ext: 'race-3', first_name: 'Writer 3', last_name: null }),
        expect.objectContaining({ ext: null, first_name: 'Bystander' }),
      ]);
    } finally {
      for (const writer of holding) {
        await writer.client.query('ROLLBACK');
        writer.client.release();
      }
      await writers.end();
    }
  });

  it('counts every failed row while keeping the first 1000 errors', async () => {
    const account = await stack.createAccount();
    const contacts = Array.from({ length: 1200 }, (_, index) => ({ id: 900_000_000 + index, firstName: 'Nobody' }));
    const started = await stack.request(account, 'POST', '/api/v1/contacts', { dedupeOn: 'id', contacts });
    const result = await finished(account, started.body.asyncSessionId);
    expect(result).toMatchObject({ status: 'FINISHED', processed: 1200, created: 0, updated: 0, failed: 1200 });
    expect(result.errors.map((error: { index: number }) => error.index)).toEqual(Array.from({ length: 1000 }, (_, index) => index));
    expect(result.errors[999]).toMatchObject({ code: 'CONTACT_NOT_FOUND' });
  });

  it('updates only contactFields and customFieldsIDs on existing contacts', async () => {
    const account = await stack.createAccount();
    const existing = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'cf-1',
      firstName: 'Keep',
      lastName: 'Old',
      channels: [{ type: 'sms', value: '380501110000' }],
      fields: [
        { id: 1, value: 'keep' },
        { id: 2, value: 'old' },
      ],
    });
    const started = await stack.request(account, 'POST', '/api/v1/contacts', {
      dedupeOn: 'externalCustomerId',
      contactFields: ['lastName', 'email'],
      customFieldsIDs: [2],
      contacts: [
        {
          externalCustomerId: 'cf-1',
          firstName: 'Changed',
          lastName: 'New',
          channels: [
            { type: 'email', value: 'cf@example.com' },
            { type: 'sms', value: '380509999999' },
          ],
          fields: [
            { id: 1, value: 'changed' },
            { id: 2, value: 'new' },
          ],
        },
      ],
    });
    await finished(account, started.body.asyncSessionId);
    const read = await stack.request(account, 'GET', `/api/v1/contact/${existing.body.id}`);
    expect(read.body).toMatchObject({
      firstName: 'Keep',
      lastName: 'New',
      fields: [
        { id: 1, value: 'keep' },
        { id: 2, value: 'new' },
      ],
    });
    expect(read.body.channels).toEqual([
      { type: 'email', value: 'cf@example.com' },
      { type: 'sms', value: '380501110000' },
    ]);
  });

  it('dedupes on sms, id and an additional field, and restores deleted contacts only when asked', async () => {
    const account = await stack.createAccount();
    const phone = (await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'sms', value: '380671234567' }] })).body.id;
    const byId = (await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'ById' })).body.id;
    const byField = (await stack.request(account, 'POST', '/api/v1/contact', { fields: [{ id: 55, value: 'card-1' }] })).body.id;
    const gone = (await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'gone', firstName: 'Gone' })).body.id;
    await stack.request(account, 'DELETE', `/api/v1/contact/${gone}`);

    const run = async (body: object) => finished(account, (await stack.request(account, 'POST', '/api/v1/contacts', body)).body.asyncSessionId);
    expect(await run({ dedupeOn: 'sms', contacts: [{ firstName: 'Phone', channels: [{ type: 'sms', value: '+38 067 123 45 67' }] }] })).toMatchObject(
      { updated: 1, created: 0 },
    );
    expect(
      await run({
        dedupeOn: 'id',
        contacts: [
          { id: byId, lastName: 'Updated' },
          { id: 999999999, firstName: 'Nope' },
        ],
      }),
    ).toMatchObject({
      updated: 1,
      created: 0,
      failed: 1,
      errors: [{ index: 1, code: 'CONTACT_NOT_FOUND', message: expect.any(String) }],
    });
    expect(await run({ dedupeOn: 'fieldId', fieldId: 55, contacts: [{ firstName: 'Card', fields: [{ id: 55, value: 'card-1' }] }] })).toMatchObject({
      updated: 1,
    });
    expect(await run({ dedupeOn: 'externalCustomerId', contacts: [{ externalCustomerId: 'gone', firstName: 'Back' }] })).toMatchObject({
      updated: 0,
      failed: 1,
      errors: [{ index: 0, code: 'CONTACT_DELETED', message: expect.any(String) }],
    });
    expect(
      await run({ dedupeOn: 'externalCustomerId', restoreDeleted: true, contacts: [{ externalCustomerId: 'gone', firstName: 'Back' }] }),
    ).toMatchObject({
      updated: 1,
    });

    expect((await stack.request(account, 'GET', `/api/v1/contact/${phone}`)).body.firstName).toBe('Phone');
    expect((await stack.request(account, 'GET', `/api/v1/contact/${byId}`)).body.lastName).toBe('Updated');
    expect((await stack.request(account, 'GET', `/api/v1/contact/${byField}`)).body.firstName).toBe('Card');
    expect((await stack.request(account, 'GET', `/api/v1/contact/${gone}`)).body.firstName).toBe('Back');
    expect((await contactsByExternalId(account.accountId)).length).toBe(4);
  });

  it('fails a job whose stored request can no longer be read, and releases it', async () => {
    const account = await stack.createAccount();
    const { rows } = await stack.platform.db.query<{ id: string }>(
      `INSERT INTO contact_import_jobs (account_id, request, total) VALUES ($1, '{"contacts": "not a list"}', 1) RETURNING id`,
      [account.accountId],
    );
    const sessionId = rows[0]!.id;
    await stack.platform.queue.send('imports', [{ body: JSON.stringify({ jobId: sessionId }) }]);

    expect(await finished(account, sessionId)).toMatchObject({ status: 'FAILED', processed: 0 });
    const stored = await stack.platform.db.query('SELECT request IS NULL AS released FROM contact_import_jobs WHERE id = $1', [sessionId]);
    expect(stored.rows[0].released).toBe(true);
  });

  it('refuses a malformed request before queueing anything', async () => {
    const account = await stack.createAccount();
    const tooMany = Array.from({ length: 3001 }, () => ({ firstName: 'x' }));
    for (const body of [
      { dedupeOn: 'email', contacts: tooMany },
      { dedupeOn: 'fieldId', contacts: [{ firstName: 'x' }] },
      { dedupeOn: 'phone', contacts: [{ firstName: 'x' }] },
      { dedupeOn: 'email', contacts: [] },
    ]) {
      const response = await stack.request(account, 'POST', '/api/v1/contacts', body);
      expect(response.status).toBe(400);
    }
    const jobs = await stack.platform.db.query('SELECT count(*)::int AS n FROM contact_import_jobs WHERE account_id = $1', [account.accountId]);
    expect(jobs.rows[0].n).toBe(0);
  });

  it('keeps import sessions private to their account', async () => {
    const owner = await stack.createAccount();
    const stranger = await stack.createAccount();
    const started = await stack.request(owner, 'POST', '/api/v1/contacts', {
      dedupeOn: 'email',
      contacts: [{ channels: [{ type: 'email', value: 'own@example.com' }] }],
    });
    expect((await stack.request(stranger, 'GET', `/api/v1/importstatus/${started.body.asyncSessionId}`)).status).toBe(404);
    await finished(owner, started.body.asyncSessionId);
    // The stranger's import with the same email creates the stranger's own contact.
    const theirs = await stack.request(stranger, 'POST', '/api/v1/contacts', {
      dedupeOn: 'email',
      contacts: [{ channels: [{ type: 'email', value: 'own@example.com' }] }],
    });
    expect(await finished(stranger, theirs.body.asyncSessionId)).toMatchObject({ created: 1, updated: 0 });
  });
});
