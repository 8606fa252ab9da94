/**
 * uTP throughput on loopback, measured in one run against its references:
 * - uTP vs TCP between two peerkit processes (64 MiB through one stream): MB/s and CPU per MB
 *   of both processes together;
 * - libtorrent -> libtorrent over uTP only (python3-libtorrent 2.0), and peerkit -> libtorrent
 *   and libtorrent -> peerkit over uTP (piece-exchange's Torrent over utpNetwork), 64 MiB each.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encode } from '@peerkit/bencode';
import { type Cell, report } from '@peerkit/dev-kit/bench';
import { memoryFileSystem, Torrent } from '@peerkit/piece-exchange';
import { type Network, nodeNetwork } from '@peerkit/transport';
import { utpNetwork } from '../src/index';

const SIZE = 64 * 1024 * 1024;
const MB = 1e6;
const here = new URL('.', import.meta.url).pathname;

async function streamRun(kind: 'utp' | 'tcp'): Promise<{ mbps: number; cpuPerMb: number }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@peerkit/source', '--import', 'tsx', join(here, 'sink.ts'), kind],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve) => lines.once('line', resolve));
  const { port } = JSON.parse(first) as { port: number };
  const base = nodeNetwork();
  const net: Network = kind === 'utp' ? utpNetwork(base) : base;
  const chunk = new Uint8Array(256 * 1024).fill(0x5a);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const stream = await net.dial({ host: '127.0.0.1', port });
  for (let sent = 0; sent < SIZE; sent += chunk.length) await stream.write(chunk);
  await stream.end();
  let answer = '';
  for await (const part of stream) answer += new TextDecoder().decode(part);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const { n, cpuUs } = JSON.parse(answer) as { n: number; cpuUs: number };
  if (n !== SIZE) throw new Error(`${kind}: the sink got ${n} bytes`);
  if ('close' in net) await (net as { close(): Promise<void> }).close();
  await new Promise((resolve) => child.once('exit', resolve));
  const cpuSeconds = (used.user + used.system + cpuUs) / 1e6;
  return { mbps: SIZE / MB / seconds, cpuPerMb: (cpuSeconds * 1000) / (SIZE / MB) };
}

async function torrentFixture(dir: string) {
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) data[i] = (i * 2654435761) >>> 24;
  const piece = 256 * 1024;
  const pieces = new Uint8Array((SIZE / piece) * 20);
  for (let i = 0; i < SIZE / piece; i++) {
    pieces.set(
      createHash('sha1')
        .update(data.subarray(i * piece, (i + 1) * piece))
        .digest(),
      i * 20,
    );
  }
  const name = 'bench.bin';
  const infoDict = { length: SIZE, name, 'piece length': piece, pieces };
  const infoBytes = encode(infoDict);
  const torrentPath = join(dir, 'bench.torrent');
  await writeFile(torrentPath, encode({ info: infoDict }));
  await writeFile(join(dir, name), data);
  const info = {
    infoHash: new Uint8Array(createHash('sha1').update(infoBytes).digest()),
    name,
    pieceLength: piece,
    pieceHashes: pieces,
    files: [{ path: [name], length: SIZE }],
    infoBytes,
  };
  return { data, info, torrentPath };
}

/**
 * Runs libtorrent's getter against a peer; resolves with the seconds to completion as
 * libtorrent measured them: from its `connect_peer` (its session up, as in lt_pair.py) to
 * complete, so python's and libtorrent's start-up are not counted against the peer.
 */
function libtorrentGets(torrentPath: string, save: string, port: number): Promise<number> {
  const child = spawn(
    '/usr/bin/python3',
    [join(here, '../test/interop/lt_peer.py'), 'get', torrentPath, save, '0', `127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('libtorrent did not finish in 300 s'));
    }, 300_000);
    lines.on('line', (line) => {
      if (!line.includes('"done"')) return;
      clearTimeout(timer);
      const { seconds } = JSON.parse(line) as { seconds: number };
      child.once('exit', () => resolve(seconds));
      child.kill('SIGTERM');
    });
  });
}

/** Starts libtorrent seeding `torrentPath` from `dir`; resolves with its port and a stop. */
async function libtorrentSeeds(
  torrentPath: string,
  dir: string,
): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn(
    '/usr/bin/python3',
    [join(here, '../test/interop/lt_peer.py'), 'seed', torrentPath, dir, '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('libtorrent did not start')), 30_000);
    lines.on('line', (line) => {
      const event = JSON.parse(line) as { event: string; port?: number };
      if (event.event === 'listening' && event.port !== undefined) {
        clearTimeout(timer);
        resolve(event.port);
      }
    });
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const rows: Cell[][] = [];
  const tcp = await streamRun('tcp');
  const utp = await streamRun('utp');
  rows.push(['TCP, peerkit process -> peerkit process (reference)', tcp.mbps, tcp.cpuPerMb]);
  rows.push(['uTP, peerkit process -> peerkit process', utp.mbps, utp.cpuPerMb]);

  const dir = await mkdtemp(join(tmpdir(), 'peerkit-utp-bench-'));
  try {
    const { data, info, torrentPath } = await torrentFixture(dir);
    const lt = spawnSync('/usr/bin/python3', [join(here, 'lt_pair.py'), torrentPath, dir, dir], {
      encoding: 'utf8',
    });
    if (lt.status === 0) {
      const r = JSON.parse(lt.stdout.trim().split('\n').pop() as string) as {
        seconds: number;
        utp: boolean[];
        done: boolean;
      };
      if (r.done && r.utp.length > 0 && r.utp.every(Boolean))
        rows.push(['libtorrent -> libtorrent, uTP only (reference)', SIZE / MB / r.seconds, '']);
    } else {
      rows.push(['libtorrent -> libtorrent, uTP only', 'not measured (no python3-libtorrent)', '']);
    }
    // peerkit seeds over uTP, libtorrent downloads.
    const fs = memoryFileSystem();
    fs.put(`/seed/${info.name}`, data);
    const net = utpNetwork(nodeNetwork());
    const seeder = await Torrent.open({
      network: net,
      directory: '/seed',
      info,
      fs,
      resume: false,
      assumeComplete: true,
      listen: { host: '127.0.0.1' },
    });
    try {
      const seconds = await libtorrentGets(
        torrentPath,
        join(dir, 'get'),
        seeder.listenAddress?.port as number,
      );
      const got = await readFile(join(dir, 'get', info.name));
      if (
        createHash('sha1').update(got).digest('hex') !==
        createHash('sha1').update(data).digest('hex')
      ) {
        throw new Error('libtorrent downloaded other bytes');
      }
      rows.push([
        'peerkit -> libtorrent over uTP (BitTorrent, piece hashing included)',
        SIZE / MB / seconds,
        '',
      ]);
    } finally {
      await seeder.close();
      await net.close();
    }
    // libtorrent seeds, peerkit downloads over uTP.
    const lt2 = await libtorrentSeeds(torrentPath, dir);
    const getNet = utpNetwork(nodeNetwork());
    const getFs = memoryFileSystem();
    try {
      const started = performance.now();
      const getter = await Torrent.open({
        network: getNet,
        directory: '/get',
        info,
        fs: getFs,
        resume: false,
        peers: [{ host: '127.0.0.1', port: lt2.port }],
      });
      await getter.whenDone();
      const seconds = (performance.now() - started) / 1000;
      await getter.close();
      const got = getFs.snapshot(`/get/${info.name}`);
      if (got === undefined || Buffer.compare(got, data) !== 0) {
        throw new Error('peerkit downloaded other bytes from libtorrent');
      }
      rows.push([
        'libtorrent -> peerkit over uTP (BitTorrent, piece hashing included)',
        SIZE / MB / seconds,
        '',
      ]);
    } finally {
      await getNet.close();
      await lt2.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  report({
    package: '@peerkit/utp',
    name: 'throughput',
    title: 'uTP throughput on loopback, 64 MiB, against TCP and libtorrent in the same run',
    columns: ['transfer', 'MB/s', 'CPU ms per MB (both ends)'],
    rows,
    notes: ['Both processes on one 2-core machine shared with other work: compare rows, not runs.'],
  });
}

await main();
