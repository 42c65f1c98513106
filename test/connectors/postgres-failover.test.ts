/**
 * A customer's database that fails over keeps its host name and changes its address. The
 * connector's pool must follow the name: at once when the old address stops answering, and
 * soon after `CONNECTOR_DNS_RECHECK_SECONDS` when it still answers (an old primary kept as a
 * replica). The name is served by a DNS double; each address is a forwarder to the test server.
 */
import { closeConnectorPools } from '../../shared/connectors/postgres-pools';
import { createCustomerDatabase, startForwarder, type CustomerDatabase } from '../support/customer-postgres';
import { startDnsDouble, type DnsDouble } from '../support/dns-double';
import { FakeClock } from '../support/fake-clock';
import { startTestStack, type TestAccount, type TestStack } from '../support/stack';

const HOST = 'warehouse.customer.test';
const RECHECK_SECONDS = 30;

let dns: DnsDouble;
let clock: FakeClock;
let stack: TestStack;
let account: TestAccount;
let customer: CustomerDatabase;
let nextAddress = 2;
const forwarders: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  dns = await startDnsDouble();
  clock = new FakeClock();
  stack = await startTestStack({
    background: false,
    clock,
    env: { DNS_SERVERS: dns.server, CONNECTOR_DNS_RECHECK_SECONDS: String(RECHECK_SECONDS), CONNECTOR_CONNECT_TIMEOUT_MS: '1500' },
  });
  account = await stack.createAccount();
  customer = await createCustomerDatabase(stack);
});
afterEach(async () => {
  await Promise.all(forwarders.splice(0).map((forwarder) => forwarder.close()));
});
afterAll(async () => {
  await closeConnectorPools(stack.platform);
  await customer.drop();
  await stack.stop();
  await dns.stop();
});

/** The database at a new loopback address of its own (127.0.0.2, .3, …), the name pointed at it. */
async function primaryAtNewAddress() {
  const address = `127.0.0.${nextAddress}`;
  nextAddress += 1;
  const forwarder = await startForwarder(address, customer.port, { host: customer.host, port: customer.port });
  forwarders.push(forwarder);
  dns.set(HOST, address);
  return forwarder;
}

async function savedConnector(): Promise<number> {
  const saved = await stack.request(
    account,
    'POST',
    '/api/v1/connectors',
    customer.connectorSettings({ host: HOST, name: `failover ${nextAddress}` }),
  );
  expect(saved.status).toBe(201);
  return saved.body.id as number;
}

const listSchemas = (connectorId: number) => stack.request(account, 'GET', `/api/v1/connectors/${connectorId}/datasets`);

it('follows the name to the new address on the first call after the old one stopped answering', async () => {
  const first = await primaryAtNewAddress();
  const connectorId = await savedConnector();
  expect((await listSchemas(connectorId)).status).toBe(200);
  expect(first.connections()).toBeGreaterThan(0);

  const second = await primaryAtNewAddress();
  await first.close();

  const afterFailover = await listSchemas(connectorId);
  expect(afterFailover.status).toBe(200);
  expect(afterFailover.body.datasets).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'public' })]));
  expect(second.connections()).toBeGreaterThan(0);
});

it('moves to the new address within the recheck interval while the old one still answers', async () => {
  const old = await primaryAtNewAddress();
  const connectorId = await savedConnector();
  expect((await listSchemas(connectorId)).status).toBe(200);

  const current = await primaryAtNewAddress();
  // Within the interval the pool keeps the address it checked.
  expect((await listSchemas(connectorId)).status).toBe(200);
  expect(current.connections()).toBe(0);

  // Past it, a call looks the name up again in the background; later calls go to the new address.
  clock.advanceSeconds(RECHECK_SECONDS);
  const connectionsToOld = old.connections();
  for (let call = 0; call < 200 && current.connections() === 0; call += 1) {
    expect((await listSchemas(connectorId)).status).toBe(200);
  }
  expect(current.connections()).toBeGreaterThan(0);
  expect((await listSchemas(connectorId)).status).toBe(200);
  expect(old.connections()).toBe(connectionsToOld);
});

it('keeps the address in use while the one the name now gives does not take connections yet', async () => {
  await primaryAtNewAddress();
  const connectorId = await savedConnector();
  expect((await listSchemas(connectorId)).status).toBe(200);

  dns.set(HOST, '127.0.0.99'); // nothing listens there
  clock.advanceSeconds(RECHECK_SECONDS);
  // The first call starts the lookup; the calls after it run while and after it fails.
  const statuses: number[] = [];
  for (let call = 0; call < 20; call += 1) statuses.push((await listSchemas(connectorId)).status);
  expect(new Set(statuses)).toEqual(new Set([200]));
});

it('answers the connection error when the name still gives the address that stopped answering', async () => {
  const only = await primaryAtNewAddress();
  const connectorId = await savedConnector();
  expect((await listSchemas(connectorId)).status).toBe(200);
  await only.close();

  const response = await listSchemas(connectorId);
  expect(response.status).toBe(422);
  expect(response.body.error.code).toBe('CONNECTION_REFUSED');
});
