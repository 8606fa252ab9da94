/**
 * Streaming: time to the first byte of a seek against a full download, in the same run. A
 * seeder on loopback uploads at most BENCH_RATE_MB MiB/s (default 8) a BENCH_SIZE_MB MiB file
 * (default 64) in 64 KiB pieces; each row is a fresh leecher serving the file over HTTP
 * (src/http-stream.ts), as `peerkit-share stream` does:
 * - seek to 90 %: `Range: bytes=<90 %>-`, the time until its first byte arrives;
 * - play from the start: a plain GET, the time until its first byte;
 * - full download: no reader, the time until every piece is verified (the reference).
 * The median of BENCH_REPEAT runs (default 3) per row.
 */
import { randomBytes } from 'node:crypto';
import { fmt, report } from '@peerkit/dev-kit/bench';
import {
  createTorrent,
  memoryFileSystem,
  Torrent,
  torrentInfoFromMetainfo,
} from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';
import { startStreamServer } from '../src/http-stream';
import { limitedNetwork } from '../src/throttle';

const SIZE = Number(process.env.BENCH_SIZE_MB ?? 64) * 1024 * 1024;
const RATE = Number(process.env.BENCH_RATE_MB ?? 8) * 1024 * 1024;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const PIECE = 64 * 1024;

const data = new Uint8Array(randomBytes(SIZE));
const made = await createTorrent([{ path: ['video.mp4'], length: SIZE, content: data }], {
  pieceLength: PIECE,
});
const info = torrentInfoFromMetainfo(made.metainfo);

type Mode = 'seek' | 'start' | 'full';

async function once(mode: Mode): Promise<number> {
  const seedFs = memoryFileSystem();
  seedFs.put('/seed/video.mp4', data);
  const seeder = await Torrent.open({
    network: limitedNetwork(nodeNetwork(), { upload: RATE }),
    directory: '/seed',
    info,
    fs: seedFs,
    assumeComplete: true,
    listen: { host: '127.0.0.1', port: 0 },
  });
  const started = performance.now();
  const leecher = await Torrent.open({
    network: nodeNetwork(),
    directory: '/get',
    info,
    fs: memoryFileSystem(),
    peers: [seeder.listenAddress!],
  });
  const server = await startStreamServer({ torrent: leecher, file: 0, port: 0 });
  let ms: number;
  if (mode === 'full') {
    await leecher.whenDone();
    ms = performance.now() - started;
  } else {
    const headers: Record<string, string> =
      mode === 'seek' ? { Range: `bytes=${Math.floor(SIZE * 0.9)}-` } : {};
    const response = await fetch(server.url, { headers });
    const reader = response.body!.getReader();
    await reader.read();
    ms = performance.now() - started;
    await reader.cancel();
    if (leecher.done) throw new Error('the download finished before the first byte: no stream');
  }
  await server.close();
  await leecher.close();
  await seeder.close();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = new Map<Mode, number[]>([
  ['seek', []],
  ['start', []],
  ['full', []],
]);
for (let r = 0; r < REPEAT; r++) {
  for (const mode of ['seek', 'start', 'full'] as const) results.get(mode)!.push(await once(mode));
}
const full = median(results.get('full')!);
const labels: Record<Mode, string> = {
  seek: 'seek to 90 % (first byte)',
  start: 'play from the start (first byte)',
  full: 'full download (every piece verified)',
};
report({
  package: '@peerkit/fileshare',
  name: 'stream',
  title: `streaming over HTTP from a ${RATE / 2 ** 20} MiB/s seeder on loopback, ${SIZE / 2 ** 20} MiB file, 64 KiB pieces (median of ${REPEAT})`,
  columns: ['request', 'ms', 'share of the full download'],
  rows: (['seek', 'start', 'full'] as const).map((mode) => {
    const ms = median(results.get(mode)!);
    return [labels[mode], fmt(ms), `${fmt((100 * ms) / full)} %`];
  }),
});
