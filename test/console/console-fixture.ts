import type { Browser, Page } from 'playwright-core';
import { closeConnectorPools } from '../../shared/connectors/postgres-pools';
import { createConsoleUser, launchBrowser, openConsole, signIn, type ConsoleUser } from '../support/browser';
import { createCustomerDatabase, type CustomerDatabase } from '../support/customer-postgres';
import { startTestStack, type TestStack, type TestStackOptions } from '../support/stack';

export interface ConsoleFixtureOptions {
  /** A function when the options depend on what an earlier `beforeAll` started. */
  readonly stack?: TestStackOptions | (() => TestStackOptions);
  /** A customer PostgreSQL database (its own database and role), dropped after the file. */
  readonly customerDatabase?: boolean;
  /** SQL run first in the customer database, as its administrator: the tables the file's tests read. */
  readonly customerSql?: string | ((customer: CustomerDatabase) => string);
  /** Saves a connector to the customer database under this name, through the API. */
  readonly connectorName?: string;
  /** Contacts the account holds before the tests. */
  readonly contacts?: readonly { readonly email: string; readonly firstName?: string }[];
}

export interface ConsoleFixture {
  readonly stack: TestStack;
  readonly browser: Browser;
  readonly user: ConsoleUser;
  /** Only with `customerDatabase`. */
  readonly customer: CustomerDatabase;
  /** Only with `connectorName`. */
  readonly connectorId: number;
  /** A fresh page, signed in, on the screen of this navigation link; `problems` should stay empty. */
  signedInAt(screen: string): Promise<{ page: Page; problems: string[] }>;
}

/**
 * What every browser test file starts from — the local stack, a headless Chromium, an
 * account with a person who can sign in, and, when asked, a customer database with a
 * connector to it — set up before the file's tests and taken down after them.
 */
export function consoleFixture(options: ConsoleFixtureOptions = {}): ConsoleFixture {
  const parts: { stack?: TestStack; browser?: Browser; user?: ConsoleUser; customer?: CustomerDatabase; connectorId?: number } = {};
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the console fixture has no ${what} (not asked for, or its setup failed)`);
    return value;
  };

  beforeAll(async () => {
    [parts.stack, parts.browser] = await Promise.all([
      startTestStack(typeof options.stack === 'function' ? options.stack() : options.stack),
      launchBrowser(),
    ]);
    const stack = parts.stack;
    parts.user = await createConsoleUser(stack);
    if (options.customerDatabase || options.connectorName) {
      parts.customer = await createCustomerDatabase(stack);
      const sql = typeof options.customerSql === 'function' ? options.customerSql(parts.customer) : options.customerSql;
      if (sql) await parts.customer.admin.query(sql);
    }
    if (options.connectorName) {
      const connector = await stack.request(
        parts.user.account,
        'POST',
        '/api/v1/connectors',
        parts.customer!.connectorSettings({ name: options.connectorName, sslMode: 'prefer' }),
      );
      expect(connector.status).toBe(201);
      parts.connectorId = connector.body.id as number;
    }
    for (const contact of options.contacts ?? []) {
      const saved = await stack.request(parts.user.account, 'POST', '/api/v1/contact', {
        ...(contact.firstName ? { firstName: contact.firstName } : {}),
        channels: [{ type: 'email', value: contact.email }],
      });
      expect(saved.status).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await parts.browser?.close();
    if (parts.stack && parts.customer) await closeConnectorPools(parts.stack.platform);
    await parts.customer?.drop();
    await parts.stack?.stop();
  });

  return {
    get stack() {
      return ready(parts.stack, 'stack');
    },
    get browser() {
      return ready(parts.browser, 'browser');
    },
    get user() {
      return ready(parts.user, 'user');
    },
    get customer() {
      return ready(parts.customer, 'customer database');
    },
    get connectorId() {
      return ready(parts.connectorId, 'connector');
    },
    async signedInAt(screen) {
      const opened = await openConsole(ready(parts.browser, 'browser'), ready(parts.stack, 'stack'));
      await signIn(opened.page, ready(parts.user, 'user'));
      await opened.page.getByRole('link', { name: screen, exact: true }).click();
      return opened;
    },
  };
}
