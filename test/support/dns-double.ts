import { createSocket } from 'node:dgram';

/**
 * A DNS server on 127.0.0.1 (UDP, the wire format of RFC 1035) that answers A queries from
 * a table the test changes, as a customer's DNS does when their database fails over. Names
 * it does not know get NXDOMAIN; AAAA queries for known names get no records.
 */
export interface DnsDouble {
  /** `address:port`, as `DNS_SERVERS` takes it. */
  readonly server: string;
  /** Points the name at an IPv4 address; every later query gets it. */
  set(name: string, address: string): void;
  stop(): Promise<void>;
}

const TYPE_A = 1;
const TTL_SECONDS = 5;

export async function startDnsDouble(): Promise<DnsDouble> {
  const records = new Map<string, string>();
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const answer = respond(query, records);
    if (answer) socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    server: `127.0.0.1:${port}`,
    set: (name, address) => records.set(name.toLowerCase(), address),
    stop: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

function respond(query: Buffer, records: ReadonlyMap<string, string>): Buffer | undefined {
  if (query.length < 12) return undefined;
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset]!;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += 1 + length;
  }
  const questionEnd = offset + 5; // the terminating zero, QTYPE and QCLASS
  if (questionEnd > query.length) return undefined;
  const type = query.readUInt16BE(offset + 1);
  const address = records.get(labels.join('.').toLowerCase());

  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // the query's id
  // QR (answer), the query's RD, RA; RCODE 3 (NXDOMAIN) for an unknown name.
  header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (address === undefined ? 3 : 0), 2);
  header.writeUInt16BE(1, 4); // one question, echoed
  const answers = address !== undefined && type === TYPE_A ? [aRecord(address)] : [];
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
}

function aRecord(address: string): Buffer {
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  record.writeUInt16BE(TYPE_A, 2);
  record.writeUInt16BE(1, 4); // class IN
  record.writeUInt32BE(TTL_SECONDS, 6);
  record.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, index) => record.writeUInt8(Number(octet), 12 + index));
  return record;
}
