/**
 * Debug trace of one 64 MiB uTP transfer between two processes (bench/sink.ts receives):
 * every 100 ms the sender's max_window (LEDBAT), the peer's advertised wnd_size, bytes in
 * flight, packets in flight, our_delay, RTT and the counters. Not part of `pnpm bench`.
 * usage: node --conditions=@peerkit/source --import tsx bench/trace.ts [MiB]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { nodeNetwork } from '@peerkit/transport';
import { utpNetwork } from '../src/index';
import type { UtpStream } from '../src/utp-stream';

const SIZE = Number(process.argv[2] ?? 64) * 1024 * 1024;
const here = new URL('.', import.meta.url).pathname;
const child = spawn(
  process.execPath,
  [
    ...(process.env.TRACE_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.TRACE_PROF}`] : []),
    '--conditions=@peerkit/source',
    '--import',
    'tsx',
    join(here, 'sink.ts'),
    'utp',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const lines = createInterface({ input: child.stdout });
const first = await new Promise<string>((resolve) => lines.once('line', resolve));
const { port } = JSON.parse(first) as { port: number };
const net = utpNetwork(nodeNetwork(), {
  sendBufferBytes: Number(process.env.TRACE_SNDBUF ?? 1024 * 1024),
});
const stream = (await net.dial({ host: '127.0.0.1', port })) as UtpStream;
const c = stream.connection;
const start = performance.now();
const cpu = process.cpuUsage();
let lastBytes = 0;
const sample = setInterval(() => {
  const t = ((performance.now() - start) / 1000).toFixed(1);
  const mb = ((c.stats.bytesSent - lastBytes) / 1e5).toFixed(1);
  lastBytes = c.stats.bytesSent;
  console.log(
    `t=${t}s rate=${mb}MB/s cwnd=${Math.round(c.ledbat.maxWindow)} peerWnd=${c.peerWindow} ` +
      `inflight=${c.curWindow} pkts=${c.inFlightPackets} ss=${c.ledbat.slowStart} ` +
      `delay=${(c.ledbat.ourDelay / 1000).toFixed(1)}ms rtt=${c.rtt.rtt} rto=${c.rtt.timeout} ` +
      `sent=${c.stats.packetsSent} rx=${c.stats.packetsReceived} resent=${c.stats.retransmits} ` +
      `slowdowns=${c.ledbat.slowdownCount}`,
  );
}, 100);
const chunk = new Uint8Array(256 * 1024).fill(0x5a);
for (let sent = 0; sent < SIZE; sent += chunk.length) await stream.write(chunk);
await stream.end();
let answer = '';
for await (const part of stream) answer += new TextDecoder().decode(part);
const seconds = (performance.now() - start) / 1000;
clearInterval(sample);
const used = process.cpuUsage(cpu);
const sink = JSON.parse(answer) as { cpuUs: number };
console.log(
  `${(SIZE / 1e6 / seconds).toFixed(1)} MB/s, CPU ms per MB: sender ` +
    `${((used.user + used.system) / 1000 / (SIZE / 1e6)).toFixed(2)}, receiver ` +
    `${(sink.cpuUs / 1000 / (SIZE / 1e6)).toFixed(2)}`,
);
await net.close();
