import { apiRoutes } from '../../functions/api/routes';
import { startHttpGateway } from '../../local/http-gateway';
import { methodGroups, rights, type MethodGroup, type Right } from '../../shared/accounts/rights';
import { createApiHandler } from '../../shared/http/api-handler';
import { ok, route } from '../../shared/http/route';
import { resolveAccessToken } from '../../shared/oauth/access-tokens';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * Seed 004's API method groups, method by method ("Группы API-методов по функциям в системе").
 * Paths are the seed's under /api/v1; path parameters are compared by position, not name.
 */
const seedMethodGroups: ReadonlyArray<readonly [string, MethodGroup]> = [
  // 1. General methods: any authenticated caller.
  ['GET /api/v1/version', 'general'],
  ['GET /api/v2/version', 'general'],
  ['GET /api/v1/account/info', 'general'],
  ['GET /api/v1/balance', 'general'],
  ['GET /api/v1/subscriptions', 'general'],
  ['GET /api/v1/addressbooks', 'general'],
  ['POST /api/v1/messages/email', 'general'],
  ['GET /api/v1/messages/email', 'general'],
  ['GET /api/v1/messages/email/{id}', 'general'],
  ['DELETE /api/v1/messages/email/{id}', 'general'],
  ['PUT /api/v1/messages/email/{id}', 'general'],
  ['DELETE /api/v1/messages/email/{id}/{language}', 'general'],
  ['PUT /api/v1/messages/email/{id}/{language}', 'general'],
  ['GET /api/v1/messages/email/{id}/viewLink', 'general'],
  ['GET /api/v1/messages/sms', 'general'],
  ['GET /api/v1/messages/sms/{id}', 'general'],
  ['GET /api/v1/interfaces/email', 'general'],
  ['GET /api/v1/interfaces/sms', 'general'],
  ['GET /api/v1/callouts/sms', 'general'],
  ['GET /api/v1/contact/token/activated/{app_uuid}/{token_id}', 'general'],
  ['PUT /api/v1/contact/token/activated/{app_uuid}/{token_id}', 'general'],
  ['PUT /api/v1/interactions/{interaction_id}/status', 'general'],
  // 2. Updating contacts and groups.
  ['POST /api/v1/contacts', 'contactsWrite'],
  ['POST /api/v1/contacts/upload', 'contactsWrite'],
  ['GET /api/v1/importstatus/{sessionId}', 'contactsWrite'],
  ['POST /api/v1/contact', 'contactsWrite'],
  ['PUT /api/v1/contact/{id}', 'contactsWrite'],
  ['DELETE /api/v1/contact/{id}', 'contactsWrite'],
  ['PUT /api/v1/contact/{id}/subscriptions', 'contactsWrite'],
  ['POST /api/v1/contact/subscribe', 'contactsWrite'],
  ['POST /api/v1/emails/unsubscribed/add', 'contactsWrite'],
  ['POST /api/v1/emails/unsubscribed/delete', 'contactsWrite'],
  ['POST /api/v1/group/{id}/contacts/detach', 'contactsWrite'],
  // 3. Reading contacts and groups.
  ['GET /api/v1/contacts', 'contactsRead'],
  ['GET /api/v1/contact/{id}', 'contactsRead'],
  ['GET /api/v1/contacts/email', 'contactsRead'],
  ['GET /api/v1/contact/{id}/subscriptions', 'contactsRead'],
  ['GET /api/v1/groups', 'contactsRead'],
  ['GET /api/v1/group/{id}/contacts', 'contactsRead'],
  // 4. Contact activity.
  ['GET /api/v1/contacts/activity', 'activity'],
  // 5. Events.
  ['POST /api/v1/event', 'events'],
  ['POST /api/v1/past_events', 'events'],
  ['DELETE /api/v1/past_events', 'events'],
  // 6. Messages.
  ['POST /api/v1/message/{id}/smartsend', 'messages'],
  ['POST /api/v1/message/{id}/send', 'messages'],
  ['GET /api/v1/message/status', 'messages'],
  ['POST /api/v1/message/email', 'messages'],
  ['GET /api/v1/message/email/status', 'messages'],
  ['POST /api/v1/message/sms', 'messages'],
  ['GET /api/v1/message/sms/status', 'messages'],
  ['POST /api/v1/message/viber', 'messages'],
  ['GET /api/v1/message/viber/status', 'messages'],
  ['POST /api/v1/broadcast', 'messages'],
  ['GET /api/v1/broadcast/{broadcast_id}', 'messages'],
  ['DELETE /api/v1/broadcast/{broadcast_id}', 'messages'],
  ['GET /api/v1/broadcasts', 'messages'],
];

const shape = (methodAndPath: string) => methodAndPath.replace(/\{[^}]+\}/g, '{}');
const declared = new Map(apiRoutes.map((r) => [shape(`${r.method} ${r.path}`), r.access]));

describe('every API method sits in its seed-004 group', () => {
  const present = seedMethodGroups.filter(([method]) => declared.has(shape(method)));

  it('finds the seed methods this API has', () => {
    expect(present.map(([method]) => method)).toEqual(
      expect.arrayContaining(['GET /api/v1/version', 'POST /api/v1/contact', 'POST /api/v1/message/{id}/smartsend']),
    );
  });

  it.each(present)('%s → %s', (method, group) => {
    expect(declared.get(shape(method))).toBe(group);
  });

  it('serves every method seed 004 lists (issue 26: none answers 404)', () => {
    expect(seedMethodGroups.filter(([method]) => !declared.has(shape(method))).map(([method]) => method)).toEqual([]);
  });

  it('gives every route a method group; only the OAuth protocol endpoints, the API reference, the console sign-in, signed links and the local mailbox are public', () => {
    for (const r of apiRoutes) {
      expect([...methodGroups, 'public']).toContain(r.access);
      // The console's sign-in is public as the OAuth login is: it is where a credential is made.
      // Signed links: email tracking (/t/…, issue 25) and a message's web view (/view/…, issue 26).
      if (r.access === 'public')
        expect(r.path).toMatch(
          /^\/((uaa\/)?oauth\/|\.well-known\/oauth-authorization-server$|api\/v1\/openapi\.json$|docs(\/|$)|api\/v1\/console\/session$|t\/|view\/|local\/mailbox$)/,
        );
    }
  });
});

/** Which groups each right opens (seed 004; "settings" is account administration, full access only). */
const opens: Readonly<Record<Right, readonly MethodGroup[]>> = {
  fullApi: ['general', 'contactsWrite', 'contactsRead', 'activity', 'events', 'messages', 'settings', 'credentials'],
  events: ['general', 'events'],
  eventsAndContacts: ['general', 'contactsWrite', 'contactsRead', 'activity', 'events'],
  eventsAndContactsWrite: ['general', 'contactsWrite', 'events'],
  messages: ['general', 'messages'],
};

/** The right a 403 names: the narrowest one that would open the group. */
const narrowestRight: Readonly<Record<MethodGroup, Right>> = {
  general: 'events',
  contactsWrite: 'eventsAndContactsWrite',
  contactsRead: 'eventsAndContacts',
  activity: 'eventsAndContacts',
  events: 'events',
  messages: 'messages',
  settings: 'fullApi',
  credentials: 'fullApi',
};

describe('API keys carry the same rights as OAuth scopes', () => {
  let stack: TestStack;
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    stack = await startTestStack({ background: false });
    // One probe route per group, through the same handler factory and local API Gateway.
    const handler = createApiHandler({
      platform: () => Promise.resolve(stack.platform),
      resolveBearer: resolveAccessToken,
      routes: methodGroups.map((group) => route({ method: 'GET', path: `/probe/${group}`, access: group, handle: async () => ok({ group }) })),
    });
    const gateway = await startHttpGateway(handler, 0);
    url = gateway.url;
    close = () => gateway.server.close();
  });
  afterAll(async () => {
    close();
    await stack.stop();
  });

  it.each(rights)('a key with %s opens exactly its groups, and a 403 names the missing right', async (right) => {
    const account = await stack.createAccount({ rights: right });
    for (const group of methodGroups) {
      const response = await fetch(`${url}/probe/${group}`, { headers: { authorization: account.authorization } });
      const body = (await response.json()) as { error?: { code: string; message: string } };
      if (opens[right].includes(group)) {
        expect([group, response.status]).toEqual([group, 200]);
      } else {
        expect([group, response.status, body.error?.code]).toEqual([group, 403, 'INSUFFICIENT_SCOPE']);
        expect(body.error?.message).toContain(`lacks the ${narrowestRight[group]} right`);
      }
    }
  });

  it('new keys default to full access', async () => {
    const { rows } = await stack.platform.db.query<{ rights: string }>(
      "INSERT INTO api_keys (account_id, name, key_hash, key_prefix) VALUES ((SELECT id FROM accounts LIMIT 1), 'x', 'x', 'x') RETURNING rights",
    );
    expect(rows[0]!.rights).toBe('fullApi');
  });
});
