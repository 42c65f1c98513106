import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

/** Seed 004's general methods: any right opens them. */
let stack: TestStack;
let account: TestAccount;

beforeAll(async () => {
  stack = await startTestStack();
  account = await stack.createAccount({ name: 'Kvitka Shop' });
});
afterAll(() => stack.stop());

describe('account/info, balance, subscriptions, addressbooks, interfaces', () => {
  it('describes the account, its contacts and limits, and answers honestly that it keeps no billing', async () => {
    await stack.request(account, 'POST', '/api/v1/contact', {
      channels: [{ type: 'email', value: 'a@example.com' }],
      fields: [{ id: 12, value: 'x' }],
    });
    const gone = await stack.request(account, 'POST', '/api/v1/contact', {
      channels: [{ type: 'email', value: 'b@example.com' }],
      fields: [{ id: 3, value: 1 }],
    });
    await stack.request(account, 'DELETE', `/api/v1/contact/${gone.body.id}`);

    const info = await stack.request(account, 'GET', '/api/v1/account/info');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({
      userName: 'api-key',
      organisationName: 'Kvitka Shop',
      accountId: account.accountId,
      contacts: { total: 1, deleted: 1 },
    });
    expect(info.body.limits).toMatchObject({ contactsPerBulkImport: 3000, recipientsPerSmartsend: 1000, eventsPerPastEventsCall: 500 });

    expect((await stack.request(account, 'GET', '/api/v1/balance')).body).toEqual({
      currentBalance: null,
      currency: null,
      creditLimit: null,
      bonusEmails: null,
      bonusSmses: null,
      billing: 'none',
    });

    const books = await stack.request(account, 'GET', '/api/v1/addressbooks');
    expect(books.body).toEqual({
      addressBook: [
        {
          addressBookId: account.accountId,
          name: 'Kvitka Shop',
          fieldGroups: [
            {
              name: 'Additional fields',
              fields: [
                { id: 3, name: '3' },
                { id: 12, name: '12' },
              ],
            },
          ],
        },
      ],
    });

    expect((await stack.request(account, 'GET', '/api/v1/subscriptions')).body).toEqual([]);
    const contact = await stack.request(account, 'POST', '/api/v1/contact', { channels: [{ type: 'email', value: 'c@example.com' }] });
    await stack.request(account, 'PUT', `/api/v1/contact/${contact.body.id}/subscriptions`, { subscriptions: ['promo', 'news'] });
    expect((await stack.request(account, 'GET', '/api/v1/subscriptions')).body).toEqual(['news', 'promo']);

    expect((await stack.request(account, 'GET', '/api/v1/interfaces/email')).body).toEqual([]);
    await stack.request(account, 'PUT', '/api/v1/settings/email', {
      fromAddress: 'shop@example.com',
      fromName: 'Kvitka',
      channel: { type: 'platform' },
    });
    expect((await stack.request(account, 'GET', '/api/v1/interfaces/email')).body).toEqual([
      { type: 'email', email: 'shop@example.com', name: 'Kvitka', replyTo: null },
    ]);
  });

  it('activates a mobile push token of an app and reads it back', async () => {
    const app = '4f9d3c1e-8a2b-4c5d-9e6f-7a8b9c0d1e2f';
    expect((await stack.request(account, 'GET', `/api/v1/contact/token/activated/${app}/token-1`)).status).toBe(404);
    const put = await stack.request(account, 'PUT', `/api/v1/contact/token/activated/${app}/token-1`, {});
    expect(put.body).toEqual({ appUuid: app, tokenId: 'token-1', activated: true, contactId: null });
    await stack.request(account, 'PUT', `/api/v1/contact/token/activated/${app}/token-1`, { activated: false });
    expect((await stack.request(account, 'GET', `/api/v1/contact/token/activated/${app}/token-1`)).body).toMatchObject({ activated: false });
    expect((await stack.request(account, 'GET', '/api/v1/contact/token/activated/not-a-uuid/token-1')).status).toBe(400);
  });

  it.each(['events', 'eventsAndContactsWrite', 'messages'] as const)('opens to a key with only the %s right', async (right) => {
    const narrow = await stack.createAccount({ rights: right });
    for (const path of ['/api/v1/account/info', '/api/v1/balance', '/api/v1/subscriptions', '/api/v1/addressbooks', '/api/v1/interfaces/email']) {
      expect([path, (await stack.request(narrow, 'GET', path)).status]).toEqual([path, 200]);
    }
  });
});
