import { Client, type Pool } from 'pg';
import type { ContactInput } from '../../shared/contacts/contact-schema';
import { addOrUpdateContact } from '../../shared/contacts/save-contact';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';
import { waitUntilLockWait } from '../support/wait-until';

/**
 * A save locks the contact it found and works on the version the previous writer left;
 * these races are what would leave a contact with the channels of two writers, take back
 * a contact whose channel another writer had just moved away, or make a duplicate contact.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ background: false });
});
afterAll(() => stack.stop());

const WRITERS = 12;

const channelsOf = async (accountId: number) =>
  (
    await stack.platform.db.query<{ contact_id: number; type: string; value: string }>(
      'SELECT contact_id, type, value FROM contact_channels WHERE account_id = $1 ORDER BY contact_id, type, position',
      [accountId],
    )
  ).rows;

const contactCount = async (accountId: number) =>
  (await stack.platform.db.query<{ count: number }>('SELECT count(*) FROM contacts WHERE account_id = $1', [accountId])).rows[0]?.count;

const saveAll = (account: TestAccount, bodies: readonly object[]) =>
  Promise.all(bodies.map((body) => stack.request(account, 'POST', '/api/v1/contact', body)));

describe('simultaneous add/update of one contact', () => {
  it('writers of an existing external ID all succeed and the contact keeps exactly one writer’s email', async () => {
    const account = await stack.createAccount();
    const first = await stack.request(account, 'POST', '/api/v1/contact', {
      externalCustomerId: 'busy',
      channels: [
        { type: 'email', value: 'start@example.com' },
        { type: 'sms', value: '+380501112233' },
      ],
    });
    expect(first.status).toBe(200);

    const sent = Array.from({ length: WRITERS }, (_, index) => `writer${index}@example.com`);
    const answers = await saveAll(
      account,
      sent.map((email) => ({ externalCustomerId: 'busy', channels: [{ type: 'email', value: email }] })),
    );

    expect(answers.map((answer) => answer.status)).toEqual(sent.map(() => 200));
    expect(new Set(answers.map((answer) => answer.body.id))).toEqual(new Set([first.body.id]));
    const channels = await channelsOf(account.accountId);
    const emails = channels.filter((channel) => channel.type === 'email');
    expect(emails).toHaveLength(1);
    expect(sent).toContain(emails[0]?.value);
    // A channel type nobody sent is kept.
    expect(channels.filter((channel) => channel.type === 'sms').map((channel) => channel.value)).toEqual(['380501112233']);
  });

  it('writers of a new external ID create one contact with one email', async () => {
    const account = await stack.createAccount();
    const answers = await saveAll(
      account,
      Array.from({ length: WRITERS }, (_, index) => ({
        externalCustomerId: 'fresh',
        channels: [{ type: 'email', value: `new${index}@example.com` }],
      })),
    );

    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(await contactCount(account.accountId)).toBe(1);
    expect((await channelsOf(account.accountId)).filter((channel) => channel.type === 'email')).toHaveLength(1);
  });

  it('writers without an external ID matching one email make one contact', async () => {
    const account = await stack.createAccount();
    const answers = await saveAll(
      account,
      Array.from({ length: WRITERS }, (_, index) => ({ firstName: `Name ${index}`, channels: [{ type: 'email', value: 'Same@Example.com' }] })),
    );

    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(await contactCount(account.accountId)).toBe(1);
    expect(await channelsOf(account.accountId)).toHaveLength(1);
  });

  it('an external ID given to the contact found by email while other writers update it by that email', async () => {
    const account = await stack.createAccount();
    const found = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'shared@example.com' }] });
    const answers = await saveAll(account, [
      { externalCustomerId: 'claimed', channels: [{ type: 'email', value: 'shared@example.com' }] },
      ...Array.from({ length: WRITERS - 1 }, (_, index) => ({
        firstName: `Name ${index}`,
        channels: [{ type: 'email', value: 'shared@example.com' }],
      })),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(new Set(answers.map((answer) => answer.body.id))).toEqual(new Set([found.body.id]));
    const contacts = await stack.platform.db.query('SELECT external_customer_id FROM contacts WHERE account_id = $1', [account.accountId]);
    expect(contacts.rows).toEqual([{ external_customer_id: 'claimed' }]);
    expect(await channelsOf(account.accountId)).toHaveLength(1);
  });

  it('a save with an external ID waits for a save without one creating a contact by the same email, then gives it the ID', async () => {
    const account = await stack.createAccount();
    const email = { type: 'email' as const, value: 'mixed@example.com' };
    const saved = await whileSaveOpen(account, { firstName: 'Without ID', channels: [email] }, () =>
      stack.request(account, 'POST', '/api/v1/contact', { externalCustomerId: 'mixed', channels: [email] }),
    );

    expect(saved.status).toBe(200);
    const contacts = await stack.platform.db.query('SELECT id, external_customer_id, first_name FROM contacts WHERE account_id = $1', [
      account.accountId,
    ]);
    expect(contacts.rows).toEqual([{ id: saved.body.id, external_customer_id: 'mixed', first_name: 'Without ID' }]);
  });

  it('a save by a phone alone waits for a save creating a contact by an email and that phone', async () => {
    const account = await stack.createAccount();
    const phone = { type: 'sms' as const, value: '+380501234567' };
    const saved = await whileSaveOpen(account, { channels: [{ type: 'email', value: 'phone-owner@example.com' }, phone] }, () =>
      stack.request(account, 'POST', '/api/v1/contact', { lastName: 'By phone', channels: [phone] }),
    );

    expect(saved.status).toBe(200);
    expect(await contactCount(account.accountId)).toBe(1);
  });

  it('a save by email that waited on an update moving that email away does not take the contact back', async () => {
    const account = await stack.createAccount();
    const moved = await stack.request(account, 'POST', '/api/v1/contact', {
      firstName: 'Moved',
      channels: [{ type: 'email', value: 'old@example.com' }],
    });
    // An update of the contact (as PUT makes it) that has swapped its email and not yet committed.
    const update = new Client({ connectionString: stack.databaseUrl });
    await update.connect();
    try {
      await update.query('BEGIN');
      await update.query('UPDATE contacts SET updated_at = now() WHERE id = $1', [moved.body.id]);
      await update.query(`DELETE FROM contact_channels WHERE contact_id = $1 AND type = 'email'`, [moved.body.id]);
      await update.query(
        `INSERT INTO contact_channels (account_id, contact_id, type, value, normalized) VALUES ($1, $2, 'email', 'new@example.com', 'new@example.com')`,
        [account.accountId, moved.body.id],
      );
      const saving = stack.request(account, 'POST', '/api/v1/contact', {
        firstName: 'Other',
        channels: [{ type: 'email', value: 'old@example.com' }],
      });
      await waitUntilLockWait(stack.platform.db, 'the save waiting for the open update');
      await update.query('COMMIT');
      const saved = await saving;

      expect(saved.status).toBe(200);
      expect(saved.body.id).not.toBe(moved.body.id);
      expect(await channelsOf(account.accountId)).toEqual([
        { contact_id: moved.body.id, type: 'email', value: 'new@example.com' },
        { contact_id: saved.body.id, type: 'email', value: 'old@example.com' },
      ]);
    } finally {
      await update.end();
    }
  });
});

/**
 * Runs a save in a transaction left open (as a save looks to others before it commits),
 * starts `other`, commits once `other` waits for a lock or has finished, and returns what
 * `other` answered.
 */
async function whileSaveOpen<T>(account: TestAccount, contact: ContactInput, other: () => Promise<T>): Promise<T> {
  const first = new Client({ connectionString: stack.databaseUrl });
  await first.connect();
  try {
    await first.query('BEGIN');
    // A client is what a pool hands out; the save runs in this client's open transaction.
    await addOrUpdateContact(first as unknown as Pool, account.accountId, contact);
    let finished = false;
    const answer = other().finally(() => {
      finished = true;
    });
    await waitUntilLockWait(stack.platform.db, 'the second save waiting for the first', () => finished);
    await first.query('COMMIT');
    return await answer;
  } finally {
    await first.end();
  }
}
