import { Pool, type PoolClient } from 'pg';
import { AppError } from '../errors';
import type { ResolvedDestination } from '../net/destination-guard';
import type { Platform } from '../platform';
import type { Connector } from './connector';
import { clientConfig, openClient, postgresFailure, readPostgresPassword, resolveHost, runWork, type PostgresWorkOptions } from './postgres-client';

/*
 * Pools of connections to saved PostgreSQL connectors: one per connector version and
 * platform, following the host to its new address when the database fails over.
 */

/**
 * Runs `work` on a pooled connection to the connector's database. Pools are per connector
 * version and per platform; every connection goes to an address the host resolved to
 * (refused if internal in production). A database that fails over keeps its name and
 * changes its address, so the host is resolved again every `connectorDnsRecheckSeconds`,
 * after a connection was lost, and at once when a connection cannot be opened: an address
 * the name no longer gives is left for a new pool, once that pool has connected.
 */
export async function withPostgresConnection<T>(
  platform: Platform,
  connector: Connector,
  work: (client: PoolClient) => Promise<T>,
  options: PostgresWorkOptions = {},
): Promise<T> {
  if (!connector.postgres) throw new AppError('invalid', 'CONNECTOR_KIND_MISMATCH', 'this connector is not a PostgreSQL connector');
  const entry = entryFor(platform, connector);
  let used = await entry.pool;
  recheckIfDue(platform, connector, entry, used);
  let client: PoolClient;
  try {
    client = await used.pool.connect();
  } catch (error) {
    // A retired pool hears of no failed connect: it may be unused now.
    poolsByPlatform.get(platform)?.retired.get(used.pool)?.();
    // Ended under this call, by a newer version of the connector or by the platform closing.
    if (used.pool.ending) return withOwnPool(platform, connector, work, options);
    const failure = postgresFailure(error, connector.postgres);
    if (!addressFailures.has(failure.connectorCode)) throw failure;
    let moved: ConnectorPool | undefined;
    try {
      moved = await movedPool(platform, connector, entry, used);
    } catch (moveError) {
      throw postgresFailure(moveError, connector.postgres);
    }
    if (!moved || moved === used) throw failure;
    used = moved;
    try {
      client = await used.pool.connect();
    } catch (retryError) {
      throw postgresFailure(retryError, connector.postgres);
    }
  }
  return runWork(platform, client, work, options, (broken) => {
    // The server went away under us: the next call asks DNS where it is now.
    if (broken) used.resolvedAt = Number.NEGATIVE_INFINITY;
    client.release(broken);
  });
}

/** One call on a pool of its own, closed after it. */
async function withOwnPool<T>(
  platform: Platform,
  connector: Connector,
  work: (client: PoolClient) => Promise<T>,
  options: PostgresWorkOptions,
): Promise<T> {
  let own: ConnectorPool;
  let client: PoolClient;
  try {
    own = await createPool(platform, connector);
  } catch (error) {
    throw postgresFailure(error, connector.postgres!);
  }
  try {
    client = await own.pool.connect();
  } catch (error) {
    void own.pool.end().catch(() => undefined);
    throw postgresFailure(error, connector.postgres!);
  }
  return runWork(platform, client, work, options, (broken) => {
    client.release(broken);
    void own.pool.end().catch(() => undefined);
  });
}

/** Failures that a database which moved to another address would cause. */
const addressFailures: ReadonlySet<string> = new Set(['CONNECTION_REFUSED', 'CONNECTION_TIMEOUT', 'HOST_UNREACHABLE', 'CONNECTION_FAILED']);

interface ConnectorPool {
  readonly pool: Pool;
  readonly address: string;
  /** Platform-clock ms when the host last resolved to `address` (among others). */
  resolvedAt: number;
}

interface PoolEntry {
  readonly version: string;
  readonly pool: Promise<ConnectorPool>;
  /** The lookup (and new pool) under way for this entry, shared by every call that needs one. */
  move?: Promise<ConnectorPool | undefined>;
}

interface PlatformPools {
  readonly current: Map<number, PoolEntry>;
  /** Pools left for another address or version, each with the check that ends it once nothing uses or waits for it. */
  readonly retired: Map<Pool, () => void>;
}

const poolsByPlatform = new WeakMap<Platform, PlatformPools>();

function poolsOf(platform: Platform): PlatformPools {
  let pools = poolsByPlatform.get(platform);
  if (!pools) {
    pools = { current: new Map(), retired: new Map() };
    poolsByPlatform.set(platform, pools);
  }
  return pools;
}

function entryFor(platform: Platform, connector: Connector): PoolEntry {
  const pools = poolsOf(platform);
  const { current } = pools;
  const existing = current.get(connector.id);
  if (existing?.version === connector.updatedAt) return existing;
  if (existing)
    void existing.pool.then(
      (old) => retire(pools, old.pool),
      () => undefined,
    );
  const entry: PoolEntry = { version: connector.updatedAt, pool: createPool(platform, connector) };
  current.set(connector.id, entry);
  entry.pool.catch(() => {
    if (current.get(connector.id) === entry) current.delete(connector.id);
  });
  return entry;
}

/**
 * Every `connectorDnsRecheckSeconds`, looks the host up again in the background: the call
 * goes ahead on the pool it has, and a later one gets the new pool if the name moved.
 */
function recheckIfDue(platform: Platform, connector: Connector, entry: PoolEntry, used: ConnectorPool): void {
  const now = platform.clock.now().getTime();
  if (now - used.resolvedAt < platform.config.connectorDnsRecheckSeconds * 1000) return;
  // Claimed before the lookup, so concurrent calls do not all resolve again.
  used.resolvedAt = now;
  // A new address that takes no connections yet leaves the pool in use as it is.
  movedPool(platform, connector, entry, used).catch(() => undefined);
}

/**
 * Resolves the host again; when it no longer gives the address in use, a pool to the
 * address it gives now is opened (its first connection proves it) and replaces the entry.
 * Undefined when nothing moved or the lookup failed: a pool to an address that was checked
 * stays usable through a DNS hiccup. Calls holding a replaced entry get its successor.
 */
function movedPool(platform: Platform, connector: Connector, entry: PoolEntry, used: ConnectorPool): Promise<ConnectorPool | undefined> {
  const pools = poolsOf(platform);
  const { current } = pools;
  const latest = current.get(connector.id);
  if (latest !== entry) return latest?.version === entry.version ? latest.pool : Promise.resolve(undefined);
  entry.move ??= (async () => {
    try {
      let destination: ResolvedDestination;
      try {
        destination = await resolveHost(platform, connector.postgres!.host);
      } catch {
        return undefined;
      }
      if (destination.addresses.includes(used.address)) {
        used.resolvedAt = platform.clock.now().getTime();
        return undefined;
      }
      const next = await createPool(platform, connector, destination);
      // Replaced meanwhile (the connector saved again), or the platform's pools closed.
      if (poolsByPlatform.get(platform) !== pools || current.get(connector.id) !== entry) {
        void next.pool.end().catch(() => undefined);
        return undefined;
      }
      current.set(connector.id, { version: entry.version, pool: Promise.resolve(next) });
      retire(pools, used.pool);
      return next;
    } finally {
      entry.move = undefined;
    }
  })();
  return entry.move;
}

/**
 * Ends a pool once no call holds one of its connections or waits for one: ending it at once
 * would leave its waiting calls unserved until their connect timeout (or for ever).
 */
function retire(pools: PlatformPools, pool: Pool): void {
  const endIfUnused = () => {
    if (pool.waitingCount > 0 || pool.totalCount > pool.idleCount) return;
    pool.off('release', later);
    pool.off('remove', later);
    pools.retired.delete(pool);
    void pool.end().catch(() => undefined);
  };
  // After the pool has handed the released connection to a waiting call, if any.
  const later = () => setImmediate(endIfUnused);
  pool.on('release', later);
  pool.on('remove', later);
  pools.retired.set(pool, later);
  endIfUnused();
}

async function createPool(platform: Platform, connector: Connector, resolved?: ResolvedDestination): Promise<ConnectorPool> {
  const settings = connector.postgres!;
  const target = { settings, password: await readPostgresPassword(platform, connector) };
  const destination = resolved ?? (await resolveHost(platform, settings.host));
  // Settle `prefer` once with a real handshake so every pooled connection uses the same mode.
  const { client, session } = await openClient(platform, target, destination);
  await client.end().catch(() => undefined);
  const pool = new Pool({ ...clientConfig(platform, target, destination, session.ssl), max: 3, idleTimeoutMillis: 30_000, allowExitOnIdle: true });
  // An idle connection dropped by the server: the next checkout reconnects.
  pool.on('error', () => undefined);
  // One dropped while in use: the query under way fails with it (an unheard 'error' would end the process).
  pool.on('connect', (connection) => connection.on('error', () => undefined));
  return { pool, address: destination.address, resolvedAt: platform.clock.now().getTime() };
}

/** Ends the connector pools of a platform (tests, and the local runtime on shutdown). */
export async function closeConnectorPools(platform: Platform): Promise<void> {
  const pools = poolsByPlatform.get(platform);
  if (!pools) return;
  poolsByPlatform.delete(platform);
  const ends = [...pools.current.values()].map((entry) => entry.pool.then((open) => open.pool.end()));
  ends.push(...[...pools.retired.keys()].map((pool) => pool.end()));
  await Promise.all(ends.map((end) => end.catch(() => undefined)));
}
