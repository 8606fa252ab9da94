/**
 * Download throughput of one share node to one get node over loopback TCP (in-process, no DHT),
 * next to references measured in the same run: raw loopback TCP carrying the same bytes, and
 * SHA-1 over them (every piece is hashed once on arrival).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, report } from '@peerkit/dev-kit/bench';
import { openStateDir, runGet, runShare } from '../src/index';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_MIB ?? 32) * MIB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** MiB/s of sending `data` once over a loopback TCP connection. */
async function rawTcp(data: Uint8Array): Promise<number> {
  let received = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const server = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= data.length) resolveDone();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const start = performance.now();
  const client = createConnection(port, '127.0.0.1');
  for (let at = 0; at < data.length; at += 256 * 1024) {
    if (!client.write(data.subarray(at, at + 256 * 1024))) {
      await new Promise((resolve) => client.once('drain', resolve));
    }
  }
  await done;
  const seconds = (performance.now() - start) / 1000;
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
  return data.length / MIB / seconds;
}

function sha1Rate(data: Uint8Array): number {
  const start = performance.now();
  const piece = 256 * 1024;
  for (let at = 0; at < data.length; at += piece)
    createHash('sha1')
      .update(data.subarray(at, at + piece))
      .digest();
  return data.length / MIB / ((performance.now() - start) / 1000);
}

/** MiB/s of a get node downloading the whole file from a share node. */
async function peerkit(work: string, round: number): Promise<number> {
  const seeder = await runShare({
    path: join(work, 'seed', 'data.bin'),
    state: await openStateDir(join(work, `seed-state-${round}`)),
    host: '127.0.0.1',
    dht: false,
  });
  const start = performance.now();
  const getter = await runGet({
    target: seeder.magnet,
    out: join(work, `out-${round}`),
    state: await openStateDir(join(work, `get-state-${round}`)),
    host: '127.0.0.1',
    dht: false,
    peers: [seeder.address],
  });
  await getter.whenDone();
  const seconds = (performance.now() - start) / 1000;
  await getter.close();
  await seeder.close();
  return SIZE / MIB / seconds;
}

const work = await mkdtemp(join(tmpdir(), 'peerkit-fileshare-bench-'));
try {
  const data = randomBytes(SIZE);
  await mkdir(join(work, 'seed'));
  await writeFile(join(work, 'seed', 'data.bin'), data);
  const tcp: number[] = [];
  const sha1: number[] = [];
  const share: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    tcp.push(await rawTcp(data));
    sha1.push(sha1Rate(data));
    share.push(await peerkit(work, round));
  }
  const t = median(tcp);
  const s = median(sha1);
  const p = median(share);
  report({
    package: '@peerkit/fileshare',
    name: 'transfer',
    title: `one seeder to one getter, ${SIZE / MIB} MiB over loopback (median of ${ROUNDS})`,
    columns: ['what', 'MiB/s', 'vs raw TCP'],
    rows: [
      ['raw loopback TCP (reference)', t, '1'],
      ['SHA-1 of the data (reference)', s, fmt(s / t)],
      ['peerkit-share get ← share (magnet, metadata + pieces + verify + write)', p, fmt(p / t)],
    ],
    notes: [
      'The peerkit time includes fetching the info dictionary (BEP 9), hashing every piece and writing the file.',
    ],
  });
} finally {
  await rm(work, { recursive: true, force: true });
}
