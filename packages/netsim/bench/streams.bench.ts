/**
 * Stream benchmark: 100 pairs of simulated hosts each move 4 MiB through one stream (echo-free,
 * a `for await` reader and an awaiting writer, as piece exchange does), over 10 MB/s links with
 * 20 ms latency. Reports simulated bytes and events per second of real time, against real
 * loopback TCP (node:net on 127.0.0.1) measured in the same run.
 */
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { fmt, report } from '@peerkit/dev-kit/bench';
import { Simulation } from '../src/index';

const PAIRS = 100;
const BYTES = 4 * 1024 * 1024;
const CHUNK = 16 * 1024;

async function simulate(): Promise<{
  bytesPerSec: number;
  eventsPerSec: number;
  virtualMs: number;
}> {
  const sim = new Simulation({ seed: 7, link: { latency: 20, bandwidth: 10_000_000 } });
  const chunk = new Uint8Array(CHUNK);
  const start = performance.now();
  await sim.run(async () => {
    const transfers: Promise<number>[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const server = sim.addHost();
      const client = sim.addHost();
      const received = new Promise<number>((resolve) => {
        void server.network.listen({ host: server.address, port: 6881 }, async (stream) => {
          let n = 0;
          for await (const c of stream) n += c.length;
          resolve(n);
        });
      });
      transfers.push(
        (async () => {
          const stream = await client.network.dial({ host: server.address, port: 6881 });
          for (let sent = 0; sent < BYTES; sent += CHUNK) await stream.write(chunk);
          await stream.end();
          const n = await received;
          stream.destroy();
          return n;
        })(),
      );
    }
    const totals = await Promise.all(transfers);
    if (totals.some((n) => n !== BYTES)) throw new Error('a transfer came up short');
  });
  const seconds = (performance.now() - start) / 1000;
  return {
    bytesPerSec: (PAIRS * BYTES) / seconds,
    eventsPerSec: sim.eventsProcessed / seconds,
    virtualMs: sim.now,
  };
}

/** Real loopback TCP: one connection moving 64 MiB. */
async function loopbackTcp(bytes: number): Promise<number> {
  const server = createServer((socket) => {
    socket.on('data', () => {});
    socket.on('end', () => socket.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const socket = createConnection({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const chunk = Buffer.alloc(64 * 1024);
  const start = performance.now();
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  socket.end();
  await once(socket, 'close');
  const seconds = (performance.now() - start) / 1000;
  server.close();
  return bytes / seconds;
}

const sim = await simulate();
const tcp = await loopbackTcp(64 * 1024 * 1024);

report({
  package: '@peerkit/netsim',
  name: 'streams',
  title: `${PAIRS} simulated stream transfers of ${BYTES / 1024 / 1024} MiB`,
  columns: ['measure', 'value', 'reference', 'note'],
  rows: [
    [
      'simulated stream bytes / s (real time)',
      `${fmt(sim.bytesPerSec / 1e6)} MB/s`,
      `${fmt(tcp / 1e6)} MB/s (real loopback TCP, one connection)`,
      `${fmt(sim.virtualMs / 1000)} s of virtual time at 10 MB/s per link`,
    ],
    [
      'simulated events / s (real time)',
      fmt(sim.eventsPerSec),
      '-',
      'segments, window updates, set-up',
    ],
  ],
  notes: ['Links: 20 ms latency, 10 MB/s; 16 KiB writes; default window 256 KiB.'],
});
