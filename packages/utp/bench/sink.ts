/**
 * The receiving process of the throughput benchmark: listens (uTP or TCP) on 127.0.0.1, reads
 * one stream to its end, answers with the byte count and its CPU time, and exits.
 * usage: sink.ts utp|tcp
 */
import { nodeNetwork } from '@peerkit/transport';
import { utpNetwork } from '../src/index';

const kind = process.argv[2];
const base = nodeNetwork();
const net = kind === 'utp' ? utpNetwork(base, { recvBufferBytes: 4 * 1024 * 1024 }) : base;
const listener = await net.listen({ host: '127.0.0.1' }, async (stream) => {
  const cpu = process.cpuUsage();
  let n = 0;
  for await (const chunk of stream) n += chunk.length;
  const used = process.cpuUsage(cpu);
  await stream.write(
    new TextEncoder().encode(JSON.stringify({ n, cpuUs: used.user + used.system })),
  );
  await stream.end();
  await stream.closed;
  await listener.close();
  if ('close' in net) await (net as { close(): Promise<void> }).close();
  process.exit(0);
});
console.log(JSON.stringify({ port: listener.localAddress.port }));
