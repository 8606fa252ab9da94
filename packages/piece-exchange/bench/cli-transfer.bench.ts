/**
 * Issue #22's benchmark, through the programs as users run them: one seeder process to one
 * leecher process on loopback, a 1 GiB file (BENCH_SIZE_MB overrides) in 16 KiB, 256 KiB and
 * 4 MiB pieces (BENCH_PIECES_KB overrides), each row BENCH_REPEAT times (default 3), the clients
 * interleaved within each repetition:
 *
 * - `peerkit-share share` -> `peerkit-share get --exit-when-done` (apps/fileshare's built
 *   dist/cli.js, else its sources through tsx), `--encryption plain --transport tcp --no-dht`,
 *   the leecher dialling the seeder with `--peer`, `--json` events into a file;
 * - libtorrent -> libtorrent (python3-libtorrent 2.0, bench/lt-peer.py: plain TCP, no uTP, no
 *   encryption, no DHT);
 * - aria2c -> aria2c (a one-peer HTTP tracker in this process hands out the seeder);
 * - raw loopback TCP between two Node processes carrying the same number of bytes
 *   (bench/raw-tcp.mjs), the ceiling for any Node client.
 *
 * Every process runs under /usr/bin/time: CPU (user + sys of the whole process, start-up
 * included) per GiB moved and peak RSS of each end. The rate is the payload over the transfer:
 * peerkit from the leecher's first peer connection to its `done` event, libtorrent from adding the
 * torrent to its torrent_finished alert, aria2 from its first handshake to "Download complete"
 * in its log, raw TCP from the connection to the last byte. Medians of the repetitions.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from '@peerkit/bencode';
import { fmt, report } from '@peerkit/dev-kit/bench';
import { ARIA2_LOOPBACK, haveClient } from '@peerkit/dev-kit/interop';
import {
  type BenchTorrent,
  firstLine,
  makeBenchTorrent,
  median,
  type ProcessCost,
  spawnTimed,
} from './bench-clients';

const here = dirname(fileURLToPath(import.meta.url));
const SIZE = Number(process.env.BENCH_SIZE_MB ?? 1024) * 1024 * 1024;
const GIB = SIZE / 2 ** 30;
const PIECES = (process.env.BENCH_PIECES_KB ?? '16,256,4096')
  .split(',')
  .map((k) => Number(k) * 1024);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const CLIENTS = (process.env.BENCH_CLIENTS ?? 'peerkit,libtorrent,aria2,tcp').split(',');

const fileshare = join(here, '..', '..', '..', 'apps', 'fileshare');
const builtCli = join(fileshare, 'dist', 'cli.js');
const built = existsSync(builtCli);
/** The peerkit-share command line: the built CLI users install, else the sources via tsx. */
const cli = built
  ? [builtCli]
  : ['--conditions=@peerkit/source', '--import', 'tsx', join(fileshare, 'src', 'cli.ts')];
/**
 * BENCH_BEFORE_CLI=<another build's cli.js> adds a "before" row run from it, interleaved with the
 * current one (copy an older dist/cli.js, which bundles the workspace packages, somewhere its
 * npm dependencies resolve, e.g. apps/fileshare/node_modules/.before/).
 */
const BEFORE_CLI = process.env.BENCH_BEFORE_CLI;
/** BENCH_PEERKIT_PROFILE=seed|leech: that side runs with --cpu-prof into /tmp/pkprof. */
const profile = (side: string) =>
  process.env.BENCH_PEERKIT_PROFILE === side ? ['--cpu-prof', '--cpu-prof-dir=/tmp/pkprof'] : [];

interface Run {
  mbps: number;
  leech: ProcessCost;
  seed: ProcessCost;
}

const peerkitFlags = [
  '--no-dht',
  '--transport',
  'tcp',
  '--encryption',
  'plain',
  '--host',
  '127.0.0.1',
];

function startPeerkitSeeder(dir: string, torrentPath: string, program = cli) {
  const seeder = spawnTimed(
    process.execPath,
    [
      ...profile('seed'),
      ...program,
      'share',
      join(dir, 'seed', 'bench.bin'),
      '--torrent',
      torrentPath,
      '--state-dir',
      join(dir, 'state-seed'),
      ...peerkitFlags,
      '--json',
    ],
    join(dir, 'seed.time'),
    ['ignore', 'pipe', 'inherit'],
  );
  const port = firstLine(
    seeder.child.stdout!,
    (line) => {
      const e = JSON.parse(line) as { event: string; port?: number };
      return e.event === 'listening' ? e.port : undefined;
    },
    'the seeder listening',
    600_000,
  );
  // Keep reading its stdout so that it never blocks on a full pipe.
  seeder.child.stdout!.resume();
  return { seeder, port };
}

/** The seeder verifies the file once against the torrent (first share from a state dir). */
async function warmPeerkitSeeder(dir: string, torrentPath: string): Promise<void> {
  const { seeder, port } = startPeerkitSeeder(dir, torrentPath);
  await port;
  seeder.signal();
  await seeder.cost;
}

async function peerkitRun(dir: string, torrentPath: string, program = cli): Promise<Run> {
  const { seeder, port } = startPeerkitSeeder(dir, torrentPath, program);
  const events = join(dir, 'leech-events.jsonl');
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(events, 'w');
  const leecher = spawnTimed(
    process.execPath,
    [
      ...profile('leech'),
      ...program,
      'get',
      torrentPath,
      '-o',
      join(dir, 'leech-pk'),
      '--state-dir',
      join(dir, 'state-leech'),
      '--peer',
      `127.0.0.1:${await port}`,
      '--exit-when-done',
      ...peerkitFlags,
      '--json',
    ],
    join(dir, 'leech.time'),
    ['ignore', fd, 'inherit'],
  );
  closeSync(fd);
  const leech = await leecher.cost;
  seeder.signal();
  const seed = await seeder.cost;
  const log = (await readFile(events, 'utf8'))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string; time: number; action?: string });
  const connected = log.find((e) => e.event === 'peer' && e.action === 'connect');
  const done = log.find((e) => e.event === 'done');
  if (!connected || !done) throw new Error(`peerkit leecher did not finish: ${log.at(-1)?.event}`);
  await rm(join(dir, 'leech-pk'), { recursive: true, force: true });
  await rm(join(dir, 'state-leech'), { recursive: true, force: true });
  return { mbps: SIZE / 1e6 / ((done.time - connected.time) / 1000), leech, seed };
}

async function libtorrentRun(dir: string, torrentPath: string): Promise<Run> {
  const script = join(here, 'lt-peer.py');
  const seeder = spawnTimed(
    '/usr/bin/python3',
    [script, 'seed', torrentPath, join(dir, 'seed')],
    join(dir, 'lt-seed.time'),
    ['pipe', 'pipe', 'inherit'],
  );
  const port = await firstLine(
    seeder.child.stdout!,
    (l) => (l.startsWith('READY') ? Number(l.split(' ')[1]) : undefined),
    'libtorrent seeder READY',
  );
  await mkdir(join(dir, 'leech-lt'), { recursive: true });
  const leecher = spawnTimed(
    '/usr/bin/python3',
    [script, 'leech', torrentPath, join(dir, 'leech-lt'), String(port)],
    join(dir, 'lt-leech.time'),
  );
  const result = await firstLine(
    leecher.child.stdout!,
    (l) => (l.startsWith('{') ? (JSON.parse(l) as { ms: number; bytes: number }) : undefined),
    'libtorrent leecher result',
    600_000,
  );
  const leech = await leecher.cost;
  seeder.child.stdin!.end();
  const seed = await seeder.cost;
  await rm(join(dir, 'leech-lt'), { recursive: true, force: true });
  if (result.bytes !== SIZE) throw new Error(`libtorrent got ${result.bytes} of ${SIZE} bytes`);
  return { mbps: SIZE / 1e6 / (result.ms / 1000), leech, seed };
}

async function aria2Run(dir: string, torrent: BenchTorrent): Promise<Run> {
  const seedPort = 20_000 + Math.floor(Math.random() * 20_000);
  const tracker = createServer((_req, res) => {
    const peers = Buffer.from([127, 0, 0, 1, seedPort >> 8, seedPort & 0xff]);
    res.end(Buffer.from(encode({ interval: 5, peers })));
  });
  await new Promise<void>((r) => tracker.listen(0, '127.0.0.1', r));
  const trackerPort = (tracker.address() as { port: number }).port;
  const torrentPath = join(dir, 'a2.torrent');
  await writeFile(
    torrentPath,
    encode({ announce: `http://127.0.0.1:${trackerPort}/ann`, info: torrent.info }),
  );
  const common = [...ARIA2_LOOPBACK, '--console-log-level=warn', '--allow-overwrite=true'];
  const seeder = spawnTimed(
    'aria2c',
    [
      ...common,
      `--dir=${join(dir, 'seed')}`,
      '--bt-seed-unverified=true',
      '--seed-ratio=0.0',
      '--seed-time=30',
      `--listen-port=${seedPort}`,
      torrentPath,
    ],
    join(dir, 'a2-seed.time'),
    ['ignore', 'ignore', 'ignore'],
  );
  await new Promise((r) => setTimeout(r, 2000));
  const logPath = join(dir, 'a2leech.log');
  const leecher = spawnTimed(
    'aria2c',
    [
      ...common,
      `--log=${logPath}`,
      '--log-level=info',
      `--dir=${join(dir, 'leech-a2')}`,
      '--seed-time=0',
      `--listen-port=${seedPort + 1}`,
      torrentPath,
    ],
    join(dir, 'a2-leech.time'),
    ['ignore', 'ignore', 'ignore'],
  );
  const leech = await leecher.cost;
  seeder.signal();
  const seed = await seeder.cost;
  tracker.close();
  await rm(join(dir, 'leech-a2'), { recursive: true, force: true });
  // From its first handshake to "Download complete" in its log (aria2 spends about two seconds
  // on tracker and MSE retries before that, which we do not count).
  const log = await readFile(logPath, 'utf8');
  await rm(logPath);
  const stamp = (re: RegExp) => {
    const line = log.split('\n').find((l) => re.test(l));
    const m = line ? /^(\S+ \S+)/.exec(line) : null;
    if (!m) throw new Error(`no ${re} in the aria2 log`);
    return Date.parse(m[1]!.replace(' ', 'T').slice(0, 23));
  };
  const seconds = (stamp(/Download complete/) - stamp(/handshake peerId/)) / 1000;
  return { mbps: SIZE / 1e6 / seconds, leech, seed };
}

async function rawTcpRun(dir: string): Promise<Run> {
  const script = join(here, 'raw-tcp.mjs');
  const receiver = spawnTimed(
    process.execPath,
    [script, 'receive', String(SIZE)],
    join(dir, 'tcp-rx.time'),
  );
  const out = receiver.child.stdout!;
  let port = 0;
  const result = firstLine(
    out,
    (l) => {
      if (l.startsWith('READY')) port = Number(l.split(' ')[1]);
      return l.startsWith('{') ? (JSON.parse(l) as { ms: number }) : undefined;
    },
    'raw TCP result',
  );
  while (port === 0) await new Promise((r) => setTimeout(r, 10));
  const sender = spawnTimed(
    process.execPath,
    [script, 'send', String(SIZE), String(port)],
    join(dir, 'tcp-tx.time'),
  );
  const { ms } = await result;
  const [leech, seed] = await Promise.all([receiver.cost, sender.cost]);
  return { mbps: SIZE / 1e6 / (ms / 1000), leech, seed };
}

function row(name: string, runs: Run[]): (string | number)[] {
  const m = (f: (r: Run) => number) => median(runs.map(f));
  return [
    name,
    fmt(m((r) => r.mbps)),
    runs.map((r) => fmt(r.mbps)).join(', '),
    fmt(m((r) => r.leech.cpuMs) / 1000 / GIB),
    fmt(m((r) => r.leech.maxRssMB)),
    fmt(m((r) => r.seed.cpuMs) / 1000 / GIB),
    fmt(m((r) => r.seed.maxRssMB)),
  ];
}

async function runPieceLength(piece: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-cli-bench-'));
  try {
    const torrent = await makeBenchTorrent(dir, SIZE, piece);
    const torrentPath = join(dir, 'bench.torrent');
    await writeFile(torrentPath, encode({ info: torrent.info }));
    const runs: Record<string, Run[]> = {};
    const add = async (name: string, run: () => Promise<Run>) => {
      if (!CLIENTS.includes(name) && name !== 'before') return;
      try {
        const result = await run();
        runs[name] = [...(runs[name] ?? []), result];
      } catch (error) {
        console.error(`${name} run failed:`, error);
      }
    };
    if (CLIENTS.includes('peerkit')) await warmPeerkitSeeder(dir, torrentPath);
    const haveLt = existsSync('/usr/bin/python3') && haveClient('python3');
    const haveAria2 = haveClient('aria2c');
    for (let i = 0; i < REPEAT; i++) {
      if (BEFORE_CLI) await add('before', () => peerkitRun(dir, torrentPath, [BEFORE_CLI]));
      await add('peerkit', () => peerkitRun(dir, torrentPath));
      if (haveLt) await add('libtorrent', () => libtorrentRun(dir, torrentPath));
      if (haveAria2) await add('aria2', () => aria2Run(dir, torrent));
      await add('tcp', () => rawTcpRun(dir));
    }
    const names: Record<string, string> = {
      before: 'peerkit-share -> peerkit-share, before (plain, TCP)',
      peerkit: 'peerkit-share -> peerkit-share (plain, TCP)',
      libtorrent: 'libtorrent 2.0 -> libtorrent 2.0 (plain, TCP)',
      aria2: 'aria2c -> aria2c',
      tcp: 'raw TCP, node -> node',
    };
    const rows = Object.entries(runs).map(([name, r]) => row(names[name] ?? name, r));
    const rate = (name: string) => median((runs[name] ?? []).map((r) => r.mbps));
    const ratio = (a: string, b: string) =>
      runs[a] && runs[b] ? `${fmt(rate(a) / rate(b))}x` : 'n/a';
    report({
      package: '@peerkit/piece-exchange',
      name: `cli-transfer-${piece / 1024}k`,
      title: `the programs on loopback, ${SIZE / 2 ** 20} MiB in ${piece / 1024} KiB pieces, one seeder process -> one leecher process`,
      columns: [
        'run',
        'MB/s (median)',
        'MB/s, each run',
        'leecher CPU s/GiB',
        'leecher peak RSS MB',
        'seeder CPU s/GiB',
        'seeder peak RSS MB',
      ],
      rows,
      notes: [
        `${REPEAT} interleaved repetitions, medians. peerkit-share ran ${built ? 'the built dist/cli.js (plain node)' : 'from its sources through tsx (no dist/: tsx adds about 35 MB of RSS and start-up CPU)'}.`,
        `peerkit / libtorrent: ${ratio('peerkit', 'libtorrent')}; peerkit / aria2: ${ratio('peerkit', 'aria2')}; peerkit / raw TCP: ${ratio('peerkit', 'tcp')}${BEFORE_CLI ? `; before / libtorrent: ${ratio('before', 'libtorrent')}` : ''}.`,
      ],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const piece of PIECES) await runPieceLength(piece);
