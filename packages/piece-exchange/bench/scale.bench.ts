/**
 * Scale (issue #22): one process seeding 1,000 torrents of small files with 5,000 idle peer
 * connections on real loopback TCP, and a 100,000-piece torrent resumed.
 *
 * Part 1, seeding. Each mode runs in a fresh process of its own (so its RSS is its own), with
 * the idle peers in another (bench/idle-peers.mjs): `TorrentClient` (one port, one tick) next to
 * the reference measured in the same run, 1,000 standalone `Torrent`s (a listener and a timer
 * each). Measured: RSS and heap with the torrents open and with the connections idle, active
 * Node timers, CPU per second while idle (10 s), and the time to serve a request for a random
 * torrent on a fresh connection (handshake, interested, unchoke, one 16 KiB block), while the
 * idle connections stay open.
 *
 * Part 2, resume. A torrent of 1,000 / 10,000 / 100,000 pieces of 16 KiB over a sparse file:
 * the first start (`assumeComplete`), the close (resume data written), a restart from resume
 * data with every piece verified, and one with half of them (the picker learns 50,000 pieces):
 * time per piece should be flat. The per-pick figures are bench/picker.bench.ts's.
 *
 * BENCH_TORRENTS (1000), BENCH_IDLE (5000), BENCH_SERVES (100) override the sizes. Needs about
 * 2 x BENCH_IDLE + 2 x BENCH_TORRENTS file descriptors: the limit is checked first.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encode } from '@peerkit/bencode';
import { fmt, report } from '@peerkit/dev-kit/bench';
import { nodeNetwork } from '@peerkit/transport';
import { Bitfield } from '../src/bitfield';
import { TorrentClient } from '../src/client';
import { decodeResumeData, encodeResume } from '../src/storage/resume';
import { Torrent } from '../src/torrent';
import type { TorrentInfo } from '../src/torrent-info';

const here = dirname(fileURLToPath(import.meta.url));
const TORRENTS = Number(process.env.BENCH_TORRENTS ?? 1000);
const IDLE = Number(process.env.BENCH_IDLE ?? 5000);
const SERVES = Number(process.env.BENCH_SERVES ?? 100);
const FILE_SIZE = 32 * 1024;
const PIECE = 16 * 1024;
const MB = 1024 * 1024;

function infoFor(name: string, data: Uint8Array | undefined, pieces: number): TorrentInfo {
  const hashes = new Uint8Array(pieces * 20);
  for (let i = 0; i < pieces; i++) {
    const h =
      data !== undefined
        ? createHash('sha1')
            .update(data.subarray(i * PIECE, (i + 1) * PIECE))
            .digest()
        : randomBytes(20);
    hashes.set(h, i * 20);
  }
  const length = pieces * PIECE;
  const infoBytes = encode({ length, name, 'piece length': PIECE, pieces: hashes });
  const infoHash = new Uint8Array(createHash('sha1').update(infoBytes).digest());
  return {
    infoHash,
    name,
    pieceLength: PIECE,
    pieceHashes: hashes,
    files: [{ path: [name], length }],
    infoBytes,
  };
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

interface SeedResult {
  mode: string;
  addMs: number;
  rssTorrentsMb: number;
  rssIdleMb: number;
  heapIdleMb: number;
  connections: number;
  timers: number;
  idleCpuMsPerS: number;
  serveMedianMs: number;
  serveP95Ms: number;
}

/** One seeding process (SCALE_MODE=client|standalone): prints its SeedResult as JSON. */
async function seedProcess(mode: 'client' | 'standalone'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-scale-'));
  const infos: TorrentInfo[] = [];
  for (let i = 0; i < TORRENTS; i++) {
    const name = `t${String(i).padStart(4, '0')}.bin`;
    const data = randomBytes(FILE_SIZE);
    await writeFile(join(dir, name), data);
    infos.push(infoFor(name, data, FILE_SIZE / PIECE));
  }
  const network = nodeNetwork();
  const host = '127.0.0.1';
  const started = performance.now();
  let client: TorrentClient | undefined;
  const torrents: Torrent[] = [];
  const common = { directory: dir, assumeComplete: true, resume: false as const };
  if (mode === 'client') {
    client = await TorrentClient.open({ network, listen: { host }, maxConnections: IDLE + 1000 });
    for (const info of infos) torrents.push(await client.add({ ...common, info }));
  } else {
    for (const info of infos)
      torrents.push(await Torrent.open({ ...common, network, info, listen: { host } }));
  }
  const addMs = performance.now() - started;
  gc();
  const rssTorrentsMb = process.memoryUsage().rss / MB;
  const targets = torrents.map((t) => ({
    host,
    port: (client?.listenAddress ?? t.listenAddress)!.port,
    infoHash: hex(t.infoHash),
  }));
  const specPath = join(dir, 'peers.json');
  await writeFile(specPath, JSON.stringify({ targets, connections: IDLE, concurrency: 50 }));
  const peers = spawn(process.execPath, [join(here, 'idle-peers.mjs'), specPath], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: peers.stdout! })[Symbol.asyncIterator]();
  const idle = JSON.parse((await lines.next()).value as string) as { connected: number };
  if (idle.connected < IDLE) throw new Error(`only ${idle.connected} of ${IDLE} peers connected`);
  await sleep(3000);
  gc();
  const memory = process.memoryUsage();
  let connections = 0;
  for (const t of torrents) connections += t.stats().peers.length;
  const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await sleep(10_000);
  const used = process.cpuUsage(cpu);
  const idleCpuMsPerS = (used.user + used.system) / 1000 / ((performance.now() - t0) / 1000);
  peers.stdin!.write(`serve ${SERVES}\n`);
  const { serveMs } = JSON.parse((await lines.next()).value as string) as { serveMs: number[] };
  peers.stdin!.write('quit\n');
  await new Promise((resolve) => peers.once('exit', resolve));
  await (client ? client.close() : Promise.all(torrents.map((t) => t.close())));
  await rm(dir, { recursive: true, force: true });
  const result: SeedResult = {
    mode,
    addMs,
    rssTorrentsMb,
    rssIdleMb: memory.rss / MB,
    heapIdleMb: memory.heapUsed / MB,
    connections,
    timers,
    idleCpuMsPerS,
    serveMedianMs: median(serveMs),
    serveP95Ms: p95(serveMs),
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

function runSeedProcess(mode: string): SeedResult {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url)],
    {
      env: { ...process.env, SCALE_MODE: mode },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * MB,
    },
  );
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`no result from the ${mode} process`);
  return JSON.parse(line.slice('RESULT '.length)) as SeedResult;
}

/** Part 2: open, close, resume (all verified) and resume (half verified) of an n-piece torrent. */
async function resumeRound(n: number) {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-resume-'));
  const info = infoFor('big.bin', undefined, n);
  const file = await open(join(dir, 'big.bin'), 'w');
  await file.truncate(n * PIECE); // sparse
  await file.close();
  const network = nodeNetwork();
  const resume = join(dir, 'big.resume');
  const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t = performance.now();
    const value = await f();
    return [value, performance.now() - t];
  };
  const base = { network, directory: dir, info, resume };
  const [first, firstMs] = await time(() => Torrent.open({ ...base, assumeComplete: true }));
  const [, closeMs] = await time(() => first.close());
  const [full, fullMs] = await time(() => Torrent.open(base));
  if (full.stats().verifiedPieces !== n) throw new Error('resume data was not used');
  await full.close();
  // Half verified: the same resume data with every other piece cleared.
  const data = decodeResumeData(await readFile(resume), info.infoHash, n);
  const half = new Bitfield(n);
  for (let i = 0; i < n; i += 2) half.set(i);
  await writeFile(resume, encodeResume(info.infoHash, half, data));
  const [halfT, halfMs] = await time(() => Torrent.open(base));
  if (halfT.stats().verifiedPieces !== Math.ceil(n / 2)) throw new Error('half resume not used');
  await halfT.close();
  await rm(dir, { recursive: true, force: true });
  return { firstMs, closeMs, fullMs, halfMs };
}

async function main(): Promise<void> {
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  const need = 2 * IDLE + 2 * TORRENTS + 200;
  if (limit < need)
    throw new Error(`open file limit ${limit} < ${need}: run \`ulimit -n ${need}\` first`);
  const results = ['client', 'standalone'].map(runSeedProcess);
  report({
    package: '@peerkit/piece-exchange',
    name: 'scale-seeding',
    title: `one process seeding ${TORRENTS.toLocaleString('en-US')} torrents (32 KiB files) with ${IDLE.toLocaleString('en-US')} idle peer connections, loopback TCP`,
    columns: [
      'seeding process',
      'open all, s',
      'RSS, torrents open',
      'RSS, peers idle',
      'heap, peers idle',
      'connections',
      'Node timers',
      'idle CPU, ms/s',
      'serve a request: median',
      'p95',
    ],
    rows: results.map((r) => [
      r.mode === 'client'
        ? '`TorrentClient`: one port, one tick'
        : 'reference: standalone `Torrent`s, a port and a timer each',
      fmt(r.addMs / 1000),
      `${fmt(r.rssTorrentsMb)} MiB`,
      `${fmt(r.rssIdleMb)} MiB`,
      `${fmt(r.heapIdleMb)} MiB`,
      r.connections,
      r.timers,
      fmt(r.idleCpuMsPerS),
      `${fmt(r.serveMedianMs)} ms`,
      `${fmt(r.serveP95Ms)} ms`,
    ]),
    notes: [
      `Serve = a fresh connection to a random torrent: handshake, interested, unchoke, one 16 KiB block (${SERVES} in a row, from the idle-peers process). Idle CPU over 10 s with every connection open and silent. Node timers: process.getActiveResourcesInfo().`,
    ],
  });
  const rows: (string | number)[][] = [];
  for (const n of [1000, 10_000, 100_000]) {
    const r = await resumeRound(n);
    const us = (ms: number) => fmt((ms * 1000) / n);
    rows.push([
      n.toLocaleString('en-US'),
      `${fmt(r.firstMs)} ms (${us(r.firstMs)} µs/piece)`,
      `${fmt(r.closeMs)} ms (${us(r.closeMs)})`,
      `${fmt(r.fullMs)} ms (${us(r.fullMs)})`,
      `${fmt(r.halfMs)} ms (${us(r.halfMs)})`,
    ]);
  }
  report({
    package: '@peerkit/piece-exchange',
    name: 'scale-resume',
    title: 'a torrent of n pieces of 16 KiB over a sparse file: start, save, resume',
    columns: [
      'pieces',
      'first start (assumeComplete)',
      'close (resume data saved)',
      'resume, all verified',
      'resume, half verified',
    ],
    rows,
    notes: ['Time per piece flat from 1,000 to 100,000 pieces means no quadratic step.'],
  });
}

const mode = process.env.SCALE_MODE;
if (mode === 'client' || mode === 'standalone') await seedProcess(mode);
else await main();
