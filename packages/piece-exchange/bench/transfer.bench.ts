/**
 * One seeder to one leecher on loopback, two processes each, a 1 GiB file (BENCH_SIZE_MB
 * overrides the size) in 16 KiB, 256 KiB and 4 MiB pieces (BENCH_PIECES_KB overrides the list):
 * peerkit -> peerkit next to aria2 -> aria2 and node:crypto SHA-1 throughput, all measured in the
 * same run. BENCH_BEFORE=<directory of another copy of this package> adds a "before" row that
 * runs that copy's bench/peer-process.mjs (e.g. `git archive` of an older commit), interleaved
 * with the current one, for before/after figures from one run. BENCH_ENCRYPTION=require runs the
 * peerkit rows MSE/PE RC4-encrypted (default: plain) and adds bare RC4 throughput rows.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from '@peerkit/bencode';
import { fmt, rate, report } from '@peerkit/dev-kit/bench';
import { ARIA2_LOOPBACK, haveClient } from '@peerkit/dev-kit/interop';
import { Bitfield } from '../src/bitfield';
import { Rc4 } from '../src/mse/rc4';
import { encodeResume } from '../src/storage/resume';
import { lines, makeBenchTorrent, parseTime } from './bench-clients';

const here = dirname(fileURLToPath(import.meta.url));
const SIZE = Number(process.env.BENCH_SIZE_MB ?? 1024) * 1024 * 1024;
const PIECES = (process.env.BENCH_PIECES_KB ?? '16,256,4096')
  .split(',')
  .map((k) => Number(k) * 1024);
const BEFORE = process.env.BENCH_BEFORE;
/** peerkit runs per row (before and after alternate); the row shows the median-rate run. */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 1);
const ENCRYPTION = process.env.BENCH_ENCRYPTION === 'require' ? 'require' : 'plain';

interface Side {
  cpuMs: number;
  maxRssMB: number;
}

async function makeTorrent(
  dir: string,
  PIECE: number,
): Promise<{ torrent: Uint8Array; infoHash: Uint8Array }> {
  const { info, infoHash } = await makeBenchTorrent(dir, SIZE, PIECE);
  return { torrent: encode({ announce: 'http://127.0.0.1:1/announce', info }), infoHash };
}

/** The built package when it exists (what users run), else the sources through tsx. */
const built =
  existsSync(join(here, '..', 'dist', 'index.js')) &&
  ['transport', 'bencode'].every((p) => existsSync(join(here, '..', '..', p, 'dist', 'index.js')));

function node(args: string[], packageDir = join(here, '..')) {
  const loader = built ? [] : ['--conditions=@peerkit/source', '--import', 'tsx'];
  if (process.env.BENCH_PROFILE && args[0] === process.env.BENCH_PROFILE)
    loader.push('--cpu-prof', '--cpu-prof-dir=/tmp/pkprof');
  return spawn(
    process.execPath,
    [...loader, join(packageDir, 'bench', 'peer-process.mjs'), ...args],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, PEERKIT_ENCRYPTION: ENCRYPTION },
    },
  );
}

type PeerkitRun = Awaited<ReturnType<typeof peerkitRun>>;

/** The run with the median rate. */
function medianRun(runs: PeerkitRun[]): PeerkitRun {
  const sorted = [...runs].sort((a, b) => a.mbps - b.mbps);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function peerkitRun(dir: string, torrentPath: string, packageDir?: string) {
  const seeder = node(['seed', torrentPath, join(dir, 'seed')], packageDir);
  const port = await new Promise<number>((resolve) =>
    lines(seeder.stdout!, (l) => l.startsWith('READY') && resolve(Number(l.split(' ')[1]))),
  );
  const seedResult = new Promise<Side>((resolve) =>
    lines(seeder.stdout!, (l) => l.startsWith('{') && resolve(JSON.parse(l))),
  );
  const leecher = node(['leech', torrentPath, join(dir, 'leech-pk'), String(port)], packageDir);
  const leech = await new Promise<Side & { ms: number; closeMs: number; bytes: number }>(
    (resolve) => lines(leecher.stdout!, (l) => l.startsWith('{') && resolve(JSON.parse(l))),
  );
  seeder.stdin!.write('stop\n');
  const seed = await seedResult;
  await rm(join(dir, 'leech-pk'), { recursive: true, force: true });
  return { mbps: leech.bytes / 1e6 / (leech.ms / 1000), leech, seed };
}

async function aria2Run(dir: string, torrentBytes: Uint8Array) {
  const seedPort = 20_000 + Math.floor(Math.random() * 20_000);
  const tracker = createServer((_req, res) => {
    const peers = Buffer.from([127, 0, 0, 1, seedPort >> 8, seedPort & 0xff]);
    res.end(Buffer.from(encode({ interval: 5, peers })));
  });
  await new Promise<void>((r) => tracker.listen(0, '127.0.0.1', r));
  const trackerPort = (tracker.address() as { port: number }).port;
  const text = Buffer.from(torrentBytes)
    .toString('latin1')
    .replace('http://127.0.0.1:1/announce', `http://127.0.0.1:${trackerPort}/ann`);
  // Same length as before so the bencoded string prefix stays right.
  const announce = `http://127.0.0.1:${trackerPort}/ann`;
  const fixed = text.replace(/^d8:announce\d+:/, `d8:announce${announce.length}:`);
  await writeFile(join(dir, 'a2.torrent'), Buffer.from(fixed, 'latin1'));
  const common = [...ARIA2_LOOPBACK, '--console-log-level=warn', '--allow-overwrite=true'];
  const timeArgs = ['-f', 'TIME %e %U %S %M'];
  const seeder = spawn(
    '/usr/bin/time',
    [
      ...timeArgs,
      'aria2c',
      ...common,
      `--dir=${join(dir, 'seed')}`,
      '--bt-seed-unverified=true',
      '--seed-ratio=0.0',
      '--seed-time=30',
      `--listen-port=${seedPort}`,
      join(dir, 'a2.torrent'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let seedErr = '';
  seeder.stderr!.on('data', (d: Buffer) => {
    seedErr += d.toString();
  });
  await new Promise((r) => setTimeout(r, 2000));
  const leech = spawn(
    '/usr/bin/time',
    [
      ...timeArgs,
      'aria2c',
      ...common,
      `--log=${join(dir, 'a2leech.log')}`,
      '--log-level=info',
      `--dir=${join(dir, 'leech-a2')}`,
      '--seed-time=0',
      `--listen-port=${seedPort + 1}`,
      join(dir, 'a2.torrent'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let leechErr = '';
  leech.stderr!.on('data', (d: Buffer) => {
    leechErr += d.toString();
  });
  await new Promise((r) => leech.once('close', r));
  // GNU time ignores SIGINT while it waits: stop its aria2c child by PID.
  const child = execFileSync('pgrep', ['-P', String(seeder.pid)], { encoding: 'utf8' })
    .trim()
    .split('\n')[0];
  if (child) process.kill(Number(child), 'SIGINT');
  await new Promise((r) => seeder.once('close', r));
  tracker.close();
  await rm(join(dir, 'leech-a2'), { recursive: true, force: true });
  // Transfer time from aria2's own log: first handshake to "Download complete" (aria2 spends
  // about two seconds on tracker and MSE retries before that, which we do not count).
  const log = await readFile(join(dir, 'a2leech.log'), 'utf8');
  const stamp = (re: RegExp) => {
    const line = log.split('\n').find((l) => re.test(l));
    const m = line ? /^(\S+ \S+)/.exec(line) : null;
    if (!m) throw new Error(`no ${re} in the aria2 log`);
    return Date.parse(m[1]!.replace(' ', 'T').slice(0, 23));
  };
  const transferSeconds = (stamp(/Download complete/) - stamp(/handshake peerId/)) / 1000;
  const l = parseTime(leechErr);
  const s = parseTime(seedErr);
  return {
    mbps: SIZE / 1e6 / transferSeconds,
    wallMbps: SIZE / 1e6 / l.seconds,
    leech: l,
    seed: s,
  };
}

async function runPieceLength(PIECE: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-bench-'));
  try {
    const { torrent, infoHash } = await makeTorrent(dir, PIECE);
    const torrentPath = join(dir, 'bench.torrent');
    await writeFile(torrentPath, torrent);
    // The seeder's resume data: every piece verified (we just wrote and hashed them).
    const resumeDir = join(dir, 'seed', '.peerkit');
    await mkdir(resumeDir, { recursive: true });
    await writeFile(
      join(resumeDir, `${Buffer.from(infoHash).toString('hex')}.resume`),
      encodeResume(infoHash, Bitfield.full(SIZE / PIECE)),
    );

    const block = randomBytes(PIECE);
    const sha1 = (rate(() => createHash('sha1').update(block).digest(), 1000) * PIECE) / 1e6;
    // Before and after interleaved: before, after, before, after when a before copy is given.
    const befores: PeerkitRun[] = [];
    const afters: PeerkitRun[] = [];
    for (let i = 0; i < REPEAT; i++) {
      if (BEFORE) befores.push(await peerkitRun(dir, torrentPath, BEFORE));
      afters.push(await peerkitRun(dir, torrentPath));
    }
    const before = befores.length > 0 ? medianRun(befores) : undefined;
    const pk = medianRun(afters);
    const runs =
      REPEAT > 1
        ? [
            `${REPEAT} alternating runs each, median shown; MB/s before: ${befores.map((r) => fmt(r.mbps)).join(', ')}; after: ${afters.map((r) => fmt(r.mbps)).join(', ')}.`,
          ]
        : [];
    let a2: Awaited<ReturnType<typeof aria2Run>> | undefined;
    try {
      if (!haveClient('aria2c')) throw new Error('aria2c is not installed');
      a2 = await aria2Run(dir, torrent);
    } catch (error) {
      console.error('aria2 run skipped:', error);
    }
    const rows: (string | number)[][] = [];
    if (before)
      rows.push([
        'peerkit -> peerkit, before',
        fmt(before.mbps),
        fmt(before.leech.cpuMs / 1000),
        fmt(before.leech.maxRssMB),
        fmt(before.seed.cpuMs / 1000),
        fmt(before.seed.maxRssMB),
      ]);
    rows.push([
      'peerkit -> peerkit',
      fmt(pk.mbps),
      fmt(pk.leech.cpuMs / 1000),
      fmt(pk.leech.maxRssMB),
      fmt(pk.seed.cpuMs / 1000),
      fmt(pk.seed.maxRssMB),
    ]);
    if (a2)
      rows.push([
        'aria2 -> aria2',
        fmt(a2.mbps),
        fmt(a2.leech.cpuMs / 1000),
        fmt(a2.leech.maxRssMB),
        fmt(a2.seed.cpuMs / 1000),
        fmt(a2.seed.maxRssMB),
      ]);
    rows.push([`node:crypto SHA-1 (${PIECE / 1024} KiB updates)`, fmt(sha1), '', '', '', '']);
    if (ENCRYPTION === 'require') {
      const rc4 = Rc4.forMse(randomBytes(20));
      const buffer = randomBytes(1 << 20);
      const inPlace = (rate(() => rc4.process(buffer), 200) * buffer.length) / 1e6;
      const copy = (rate(() => rc4.processCopy(buffer), 200) * buffer.length) / 1e6;
      rows.push(['RC4 alone, in place (1 MiB buffers)', fmt(inPlace), '', '', '', '']);
      rows.push(['RC4 alone, into a copy (what writes do)', fmt(copy), '', '', '', '']);
    }
    report({
      package: '@peerkit/piece-exchange',
      name: `transfer-${PIECE / 1024}k`,
      title: `one seeder -> one leecher on loopback, ${SIZE / 2 ** 20} MiB in ${PIECE / 1024} KiB pieces, two processes${ENCRYPTION === 'require' ? ', MSE/PE RC4' : ''}`,
      columns: [
        'run',
        'MB/s',
        'leecher CPU s',
        'leecher peak RSS MB',
        'seeder CPU s',
        'seeder peak RSS MB',
      ],
      rows,
      notes: a2
        ? [
            ...runs,
            `peerkit processes ran ${built ? 'the built dist/ (plain node)' : 'the TypeScript sources through tsx (no dist/ found; tsx adds about 35 MB of RSS)'}.`,
            `peerkit / aria2 rate: ${fmt(pk.mbps / a2.mbps)}x. peerkit's time runs from opening the leecher to every piece verified and written (close() then syncs to disk in ${fmt(pk.leech.closeMs)} ms more, not counted); aria2's from its first handshake to "Download complete" in its log (its wall time including start-up gives ${fmt(a2.wallMbps)} MB/s).`,
          ]
        : runs,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const piece of PIECES) await runPieceLength(piece);
