/**
 * Debug trace of peerkit -> libtorrent over uTP (64 MiB, piece-exchange's Torrent seeding,
 * libtorrent getting): every 250 ms the seeding connection's max_window, libtorrent's
 * advertised wnd_size, bytes in flight, RTT and how losses were found, plus the system's UDP
 * receive-buffer drops (/proc/net/snmp RcvbufErrors) over the run. Not part of `pnpm bench`.
 * With `get`, libtorrent seeds and peerkit gets (the getter's connection is traced instead).
 * usage: node --conditions=@peerkit/source --import tsx bench/trace-lt.ts [get]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encode } from '@peerkit/bencode';
import { memoryFileSystem, Torrent } from '@peerkit/piece-exchange';
import { type Network, nodeNetwork, type Stream } from '@peerkit/transport';
import { utpNetwork } from '../src/index';
import type { UtpStream } from '../src/utp-stream';

const SIZE = 64 * 1024 * 1024;
const here = new URL('.', import.meta.url).pathname;

function rcvbufErrors(): Promise<number> {
  return readFile('/proc/net/snmp', 'utf8').then((text) => {
    const udp = text.split('\n').filter((l) => l.startsWith('Udp:'));
    const names = (udp[0] as string).split(/\s+/);
    const values = (udp[1] as string).split(/\s+/);
    return Number(values[names.indexOf('RcvbufErrors')]);
  });
}

const dir = await mkdtemp(join(tmpdir(), 'peerkit-utp-trace-'));
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
const info = {
  infoHash: new Uint8Array(createHash('sha1').update(infoBytes).digest()),
  name,
  pieceLength: piece,
  pieceHashes: pieces,
  files: [{ path: [name], length: SIZE }],
  infoBytes,
};
const fs = memoryFileSystem();
fs.put(`/seed/${name}`, data);
const utp = utpNetwork(nodeNetwork());
const streams: UtpStream[] = [];
// Sees every accepted stream, to read its connection's state.
const net: Network = {
  ...utp,
  dial: (to, options) =>
    utp.dial(to, options).then((s) => {
      streams.push(s as UtpStream);
      return s;
    }),
  listen: (options, onStream) =>
    utp.listen(options, (s: Stream) => {
      streams.push(s as UtpStream);
      onStream(s);
    }),
};
if (process.argv[2] === 'get') {
  await writeFile(join(dir, name), data);
  const lt = spawn(
    '/usr/bin/python3',
    [join(here, '../test/interop/lt_peer.py'), 'seed', torrentPath, dir, '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: lt.stdout }).on('line', (line) => {
      if (process.env.TRACE_LT) console.log(`libtorrent: ${line.slice(0, 160)}`);
      const event = JSON.parse(line) as { event: string; port?: number };
      if (event.event === 'listening' && event.port !== undefined) resolve(event.port);
    });
  });
  const drops = await rcvbufErrors();
  const started = performance.now();
  const timer = setInterval(() => {
    for (const s of streams) {
      const c = s.connection;
      console.log(
        `t=${((performance.now() - started) / 1000).toFixed(2)} ackNr=${c.ackNr} ` +
          `${JSON.stringify(c.stats)}`,
      );
    }
  }, 250);
  const getter = await Torrent.open({
    network: net,
    directory: '/get',
    info,
    fs: memoryFileSystem(),
    resume: false,
    peers: [{ host: '127.0.0.1', port }],
  });
  await getter.whenDone();
  clearInterval(timer);
  const took = (performance.now() - started) / 1000;
  console.log(
    `got in ${took.toFixed(2)} s (${(SIZE / 1e6 / took).toFixed(1)} MB/s), ` +
      `system UDP RcvbufErrors +${(await rcvbufErrors()) - drops}`,
  );
  await getter.close();
  await utp.close();
  lt.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
}
const seeder = await Torrent.open({
  network: net,
  directory: '/seed',
  info,
  fs,
  resume: false,
  assumeComplete: true,
  listen: { host: '127.0.0.1' },
});
const drops0 = await rcvbufErrors();
const child = spawn(
  '/usr/bin/python3',
  [
    join(here, '../test/interop/lt_peer.py'),
    'get',
    torrentPath,
    join(dir, 'get'),
    '0',
    `127.0.0.1:${seeder.listenAddress?.port}`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const start = performance.now();
const sample = setInterval(() => {
  for (const s of streams) {
    const c = s.connection;
    console.log(
      `t=${((performance.now() - start) / 1000).toFixed(2)} cwnd=${Math.round(c.ledbat.maxWindow)} ` +
        `peerWnd=${c.peerWindow} inflight=${c.curWindow} rtt=${c.rtt.rtt.toFixed(1)} ` +
        `delay=${(c.ledbat.ourDelay / 1000).toFixed(1)}ms ${JSON.stringify(c.stats)}`,
    );
  }
}, 250);
await new Promise<void>((resolve) => {
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.includes('"done"')) resolve();
  });
});
clearInterval(sample);
const seconds = (performance.now() - start) / 1000;
console.log(
  `done in ${seconds.toFixed(2)} s (${(SIZE / 1e6 / seconds).toFixed(1)} MB/s), ` +
    `system UDP RcvbufErrors +${(await rcvbufErrors()) - drops0}`,
);
for (const s of streams) console.log(JSON.stringify(s.connection.stats));
child.kill('SIGTERM');
await seeder.close();
await utp.close();
await rm(dir, { recursive: true, force: true });
