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
    const count = await stack.platform.db.query(`SELECT count(*)::int AS n FROM contacts WHERE account_id = $1 AND source = 'IMPORT'`, [account.accountId]);
    expect(count.rows[0].n).toBe(3000);
    const search = await stack.request(account, 'GET', '/api/v1/contacts?externalCustomerId=bulk-2999');
    expect(search.body[0]).toMatchObject({ firstName: 'First 2999', channels: [{ type: 'email', value: 'bulk2999@example.com' }], fields: [{ id: 7, value: 2999 }] });

    // The stored request (3000 people's data) is released once the job has ended; the session keeps its result.
    const stored = await stack.platform.db.query('SELECT request IS NULL AS released FROM contact_import_jobs WHERE id = $1', [started.body.asyncSessionId]);
    expect(stored.rows[0].released).toBe(true);
    expect((await stack.request(account, 'GET', `/api/v1/importstatus/${started.body.asyncSessionId}`)).body).toMatchObject({ status: 'FINISHED', created: 3000 });
  });

  it('dedupes on email while adding external IDs, matching rows with an external ID by it first', async () => {
    const account = await stack.createAccount();
    const byEmail = await stack.request(account, 'POST', '/api/v1/contact', { firstName: 'Old', channels: [{ type: 'email', value: 'one@example.com' }] });
    const byExt = await stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'ext-2', channels: [{ type: 'email', value: 'two@example.com' }] });
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
    expect(await run({ dedupeOn: 'sms', contacts: [{ firstName: 'Phone', channels: [{ type: 'sms', value: '+38 067 123 45 67' }] }] })).toMatchObject({ updated: 1, created: 0 });
    expect(await run({ dedupeOn: 'id', contacts: [{ id: byId, lastName: 'Updated' }, { id: 999999999, firstName: 'Nope' }] })).toMatchObject({
      updated: 1,
      created: 0,
      failed: 1,
      errors: [{ index: 1, code: 'CONTACT_NOT_FOUND', message: expect.any(String) }],
    });
    expect(await run({ dedupeOn: 'fieldId', fieldId: 55, contacts: [{ firstName: 'Card', fields: [{ id: 55, value: 'card-1' }] }] })).toMatchObject({ updated: 1 });
    expect(await run({ dedupeOn: 'externalCustomerId', contacts: [{ externalCustomerId: 'gone', firstName: 'Back' }] })).toMatchObject({
      updated: 0,
      failed: 1,
      errors: [{ index: 0, code: 'CONTACT_DELETED', message: expect.any(String) }],
    });
    expect(await run({ dedupeOn: 'externalCustomerId', restoreDeleted: true, contacts: [{ externalCustomerId: 'gone', firstName: 'Back' }] })).toMatchObject({
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
    const started = await stack.request(owner, 'POST', '/api/v1/contacts', { dedupeOn: 'email', contacts: [{ channels: [{ type: 'email', value: 'own@example.com' }] }] });
    expect((await stack.request(stranger, 'GET', `/api/v1/importstatus/${started.body.asyncSessionId}`)).status).toBe(404);
    await finished(owner, started.body.asyncSessionId);
    // The stranger's import with the same email creates the stranger's own contact.
    const theirs = await stack.request(stranger, 'POST', '/api/v1/contacts', { dedupeOn: 'email', contacts: [{ channels: [{ type: 'email', value: 'own@example.com' }] }] });
    expect(await finished(stranger, theirs.body.asyncSessionId)).toMatchObject({ created: 1, updated: 0 });
  });
});
