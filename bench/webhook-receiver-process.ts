/**
 * A healthy webhook receiver in its own process, as a customer's endpoint is: answers every
 * request 200 and prints, per POST, when it arrived (monotonic ms, comparable across
 * processes on one machine) and the `iid`s it carried: `<ms> <iid>,<iid>,…`.
 * The first line is `{"url": …}`. Stops when its parent leaves.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveUntilParentLeaves } from '../local/service-process';
import { monotonicMs } from './monotonic';

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const at = monotonicMs();
    response.writeHead(200).end('ok');
    if (request.method !== 'POST') return;
    const activities = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { iid: string }[];
    process.stdout.write(`${at} ${activities.map((activity) => activity.iid).join(',')}\n`);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` })}\n`);
});
serveUntilParentLeaves(async () => undefined);
