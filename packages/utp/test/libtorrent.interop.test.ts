/**
 * Interop with libtorrent 2.0 (python3-libtorrent, Debian) over uTP only: libtorrent runs with
 * TCP disabled both ways, peerkit's piece-exchange `Torrent` runs over `utpNetwork`. 64 MiB each
 * way; the bytes are checked on disk (libtorrent's download) or in the store (peerkit's), and
 * libtorrent's own peer list confirms the connection is a uTP socket.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '@peerkit/bencode';
import { type Proc, startProcess, tempDir } from '@peerkit/dev-kit/interop';
import { memoryFileSystem, Torrent, type TorrentInfo } from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utpNetwork } from '../src/index';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('./interop/lt_peer.py', import.meta.url).pathname;
const SIZE = 64 * 1024 * 1024;
const PIECE = 256 * 1024;

function hasLibtorrent(): boolean {
  const { status } = spawnSync(PYTHON, ['-c', 'import libtorrent']);
  if (status !== 0 && process.env.INTEROP_REQUIRED === '1') {
    throw new Error('python3-libtorrent is not installed (INTEROP_REQUIRED=1)');
  }
  return status === 0;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

interface LtStatus {
  event: string;
  progress?: number;
  peers?: { ip: string; utp: boolean; down: number; up: number }[];
  seconds?: number;
}

/** Starts the libtorrent peer and follows its JSON lines. */
function startLt(args: string[], logFile: string): { proc: Proc; last: () => LtStatus[] } {
  const proc = startProcess(PYTHON, [SCRIPT, ...args], logFile);
  const events: LtStatus[] = [];
  // The log file is written as the process runs; re-read it on demand.
  const last = (): LtStatus[] => {
    events.length = 0;
    for (const line of proc.output().split('\n')) {
      if (line.startsWith('{')) {
        try {
          events.push(JSON.parse(line) as LtStatus);
        } catch {
          // A line being written.
        }
      }
    }
    return events;
  };
  return { proc, last };
}

async function until(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out: ${what()}`);
}

const available = hasLibtorrent();

describe.skipIf(!available)('libtorrent 2.0 over uTP only', () => {
  let work: { path: string; remove(): Promise<void> };
  let data: Uint8Array;
  let info: TorrentInfo;
  let torrentPath: string;
  const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');

  beforeAll(async () => {
    work = await tempDir('utp-lt');
    data = new Uint8Array(SIZE);
    let x = 12345;
    for (let i = 0; i < SIZE; i += 4) {
      x = (x * 1103515245 + 12345) >>> 0;
      data[i] = x >>> 24;
      data[i + 1] = x >>> 16;
      data[i + 2] = x >>> 8;
      data[i + 3] = x;
    }
    const pieces = new Uint8Array((SIZE / PIECE) * 20);
    for (let i = 0; i < SIZE / PIECE; i++) {
      pieces.set(
        createHash('sha1')
          .update(data.subarray(i * PIECE, (i + 1) * PIECE))
          .digest(),
        i * 20,
      );
    }
    const name = 'utp-64mib.bin';
    const infoDict = { length: SIZE, name, 'piece length': PIECE, pieces };
    const infoBytes = encode(infoDict);
    info = {
      infoHash: new Uint8Array(createHash('sha1').update(infoBytes).digest()),
      name,
      pieceLength: PIECE,
      pieceHashes: pieces,
      files: [{ path: [name], length: SIZE }],
      infoBytes,
    };
    torrentPath = join(work.path, 'utp.torrent');
    await writeFile(torrentPath, encode({ info: infoDict }));
  }, 120_000);

  afterAll(async () => {
    await work?.remove();
  });

  it('peerkit seeds, libtorrent downloads 64 MiB over uTP (libtorrent dials peerkit)', async () => {
    const fs = memoryFileSystem();
    fs.put(`/seed/${info.name}`, data);
    const network = utpNetwork(nodeNetwork());
    const seeder = await Torrent.open({
      network,
      directory: '/seed',
      info,
      fs,
      resume: false,
      assumeComplete: true,
      listen: { host: '127.0.0.1' },
    });
    const save = join(work.path, 'lt-get');
    const ltPort = await freeUdpPort();
    const lt = startLt(
      ['get', torrentPath, save, String(ltPort), `127.0.0.1:${seeder.listenAddress?.port}`],
      join(work.path, 'lt-get.log'),
    );
    try {
      const started = Date.now();
      await until(
        () => lt.last().some((e) => e.event === 'done'),
        300_000,
        () => `libtorrent to download; log:\n${lt.proc.output().slice(-2000)}`,
      );
      const seconds = (Date.now() - started) / 1000;
      const statuses = lt.last().filter((e) => e.event === 'status' && (e.peers?.length ?? 0) > 0);
      const peers = statuses.flatMap((e) => e.peers ?? []);
      // libtorrent's own view: every connection to peerkit is a uTP socket.
      expect(peers.length).toBeGreaterThan(0);
      expect(peers.every((p) => p.utp)).toBe(true);
      const downloaded = await readFile(join(save, info.name));
      expect(downloaded.length).toBe(SIZE);
      expect(sha1(downloaded)).toBe(sha1(data));
      console.log(`peerkit -> libtorrent over uTP: 64 MiB in ${seconds.toFixed(1)} s`);
    } finally {
      await lt.proc.stop();
      await seeder.close();
      await network.close();
    }
  }, 400_000);

  it('libtorrent seeds, peerkit downloads 64 MiB over uTP (peerkit dials libtorrent)', async () => {
    const seedDir = join(work.path, 'lt-seed');
    await import('node:fs/promises').then((f) => f.mkdir(seedDir, { recursive: true }));
    await writeFile(join(seedDir, info.name), data);
    const ltPort = await freeUdpPort();
    const lt = startLt(
      ['seed', torrentPath, seedDir, String(ltPort)],
      join(work.path, 'lt-seed.log'),
    );
    const fs = memoryFileSystem();
    const network = utpNetwork(nodeNetwork());
    let getter: Torrent | undefined;
    try {
      await until(
        () => lt.last().some((e) => e.event === 'listening'),
        30_000,
        () => `libtorrent to listen; log:\n${lt.proc.output()}`,
      );
      const started = Date.now();
      getter = await Torrent.open({
        network,
        directory: '/get',
        info,
        fs,
        resume: false,
        peers: [{ host: '127.0.0.1', port: ltPort }],
      });
      await Promise.race([
        getter.whenDone(),
        new Promise((_, reject) =>
          setTimeout(
            () => reject(new Error(`no download; lt log:\n${lt.proc.output().slice(-2000)}`)),
            300_000,
          ),
        ),
      ]);
      const seconds = (Date.now() - started) / 1000;
      const got = fs.snapshot(`/get/${info.name}`);
      expect(got?.length).toBe(SIZE);
      expect(sha1(got as Uint8Array)).toBe(sha1(data));
      await until(
        () => lt.last().some((e) => (e.peers ?? []).length > 0),
        10_000,
        () => 'libtorrent to list peerkit as a peer',
      );
      const peers = lt.last().flatMap((e) => e.peers ?? []);
      expect(peers.every((p) => p.utp)).toBe(true);
      console.log(`libtorrent -> peerkit over uTP: 64 MiB in ${seconds.toFixed(1)} s`);
    } finally {
      await getter?.close();
      await lt.proc.stop();
      await network.close();
    }
  }, 400_000);
});
