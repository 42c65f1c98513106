import { lookup, Resolver } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { PlatformConfig } from '../config';
import { AppError } from '../errors';

/** Loopback, private, link-local, carrier-grade NAT, multicast and reserved ranges. */
const internalRanges = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  internalRanges.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  internalRanges.addSubnet(network, prefix, 'ipv6');
}

export class DestinationNotFound extends AppError {
  constructor(host: string) {
    super('unprocessable', 'DNS_NOT_FOUND', `the host ${host} could not be resolved`);
  }
}

export class DestinationRefused extends AppError {
  constructor(host: string) {
    super('unprocessable', 'DESTINATION_NOT_ALLOWED', `the host ${host} resolves to a loopback, link-local or private address`);
  }
}

export interface ResolvedDestination {
  readonly host: string;
  /** Connect to this address, not to `host`: resolving again could give another answer. */
  readonly address: string;
  /** Every address the host resolved to (all of them checked), `address` first. */
  readonly addresses: readonly string[];
  readonly family: 4 | 6;
}

export interface DestinationPolicy {
  /** False in production: user-given hosts may only reach the public internet. */
  readonly allowInternal: boolean;
  /** Ask these DNS servers instead of the system resolver (`DNS_SERVERS`). */
  readonly dnsServers?: readonly string[];
}

/** The policy for user-given hosts under this configuration. */
export function destinationPolicy(config: Pick<PlatformConfig, 'production' | 'dnsServers'>): DestinationPolicy {
  return { allowInternal: !config.production, dnsServers: config.dnsServers };
}

export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return internalRanges.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return internalRanges.check(mapped[1], 'ipv4');
    return internalRanges.check(address, 'ipv6');
  }
  return true;
}

/**
 * Resolves a user-given host once and checks every address it resolves to; the caller
 * connects to the returned address so a second lookup cannot swap in an internal one.
 */
export async function resolveDestination(host: string, policy: DestinationPolicy): Promise<ResolvedDestination> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  let addresses: { address: string; family: number }[];
  if (isIP(bare)) {
    addresses = [{ address: bare, family: isIP(bare) }];
  } else {
    try {
      addresses = policy.dnsServers ? await resolveWith(policy.dnsServers, bare) : await lookup(bare, { all: true, verbatim: true });
    } catch {
      throw new DestinationNotFound(host);
    }
  }
  if (addresses.length === 0) throw new DestinationNotFound(host);
  if (!policy.allowInternal && addresses.some((entry) => isInternalAddress(entry.address))) throw new DestinationRefused(host);
  const first = addresses[0]!;
  return { host: bare, address: first.address, addresses: addresses.map((entry) => entry.address), family: first.family === 6 ? 6 : 4 };
}

const resolvers = new Map<string, Resolver>();

/** Both address families from the given servers. */
async function resolveWith(servers: readonly string[], host: string): Promise<{ address: string; family: number }[]> {
  const key = servers.join(',');
  let resolver = resolvers.get(key);
  if (!resolver) {
    resolver = new Resolver({ timeout: 2_000, tries: 2 });
    resolver.setServers([...servers]);
    resolvers.set(key, resolver);
  }
  // A family without records adds none; any other failure fails the lookup, rather than
  // passing off one family's answer as all the host has.
  const none = (error: NodeJS.ErrnoException): string[] => {
    if (error.code === 'ENODATA' || error.code === 'ENOTFOUND') return [];
    throw error;
  };
  const [v4, v6] = await Promise.all([resolver.resolve4(host).catch(none), resolver.resolve6(host).catch(none)]);
  return [...v4.map((address) => ({ address, family: 4 })), ...v6.map((address) => ({ address, family: 6 }))];
}
