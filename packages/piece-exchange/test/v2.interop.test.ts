/**
 * BEP 52 interop with libtorrent 2.0 (python3-libtorrent) on loopback:
 * - `createTorrentV2` / `createTorrent` give the same bytes and info-hashes as libtorrent's
 *   `create_torrent` for the same files and piece length (v1, v2-only, hybrid);
 * - v2-only and hybrid torrents created by libtorrent download into peerkit from a libtorrent
 *   seeder and verify;
 * - libtorrent downloads v2 and hybrid torrents that peerkit created, from peerkit;
 * - a v2 magnet both ways (metadata by BEP 9, then piece layers by BEP 52 hash requests).
 * Run with `pnpm test:interop`; under INTEROP_REQUIRED=1 a missing libtorrent fails the run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Proc, startProcess, tempDir, waitFor } from '@peerkit/dev-kit/interop';
import { nodeNetwork } from '@peerkit/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { formatMagnet, magnetFromMetainfo } from '../src/magnet';
import { createTorrent, type TorrentInputFile } from '../src/metainfo/create';
import { createTorrentV2 } from '../src/metainfo/create-v2';
import { parseTorrent } from '../src/metainfo/parse';
import { Torrent } from '../src/torrent';
import { torrentInfoFromMetainfo } from '../src/torrent-info';

const here = dirname(fileURLToPath(import.meta.url));
const SCRIPT = join(here, 'interop', 'libtorrent_v2.py');
const hasLibtorrent = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import libtorrent'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (process.env.INTEROP_REQUIRED === '1' && !hasLibtorrent)
  throw new Error('INTEROP_REQUIRED=1 but python3-libtorrent is missing');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

type FileSet = { name: string; files: { path: string[]; bytes: Uint8Array }[] };
type Version = 'v1' | 'v2' | 'hybrid';

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const FILE_SETS: Record<string, () => FileSet> = {
  single: () => ({ name: 'one.bin', files: [{ path: ['one.bin'], bytes: bytes(300_000) }] }),
  small: () => ({ name: 'small.txt', files: [{ path: ['small.txt'], bytes: bytes(5_000) }] }),
  multi: () => ({
    name: 'set',
    files: [
      { path: ['a.bin'], bytes: bytes(70_001) },
      { path: ['b', 'c.bin'], bytes: bytes(32_768) },
      { path: ['b', 'd.bin'], bytes: bytes(200_000) },
      { path: ['b.txt'], bytes: bytes(123) },
      { path: ['empty'], bytes: new Uint8Array(0) },
    ],
  }),
};

async function writeSet(dir: string, set: FileSet): Promise<void> {
  const single = set.files.length === 1 && set.files[0]!.path.length === 1;
  for (const f of set.files) {
    const path = single ? [dir, ...f.path] : [dir, set.name, ...f.path];
    await mkdir(dirname(join(...path)), { recursive: true });
    await writeFile(join(...path), f.bytes);
  }
}

async function expectSet(dir: string, set: FileSet): Promise<void> {
  const single = set.files.length === 1 && set.files[0]!.path.length === 1;
  for (const f of set.files) {
    const got = await readFile(join(dir, ...(single ? f.path : [set.name, ...f.path])));
    expect(Buffer.compare(got, f.bytes), f.path.join('/')).toBe(0);
  }
}

function inputs(set: FileSet): TorrentInputFile[] {
  return set.files.map((f) => ({ path: f.path, length: f.bytes.length, content: f.bytes }));
}

/**
 * peerkit's torrent of `set`. A v1 torrent lists files in the order given; libtorrent lists them
 * as its directory walk found them, so `order` (libtorrent's, when comparing) is followed. v2 and
 * hybrid torrents have one order, the file tree's.
 */
async function peerkitCreate(
  set: FileSet,
  version: Version,
  pieceLength: number,
  order?: readonly string[],
) {
  const single = set.files.length === 1 && set.files[0]!.path.length === 1;
  const options = { pieceLength, ...(single ? {} : { name: set.name }) };
  if (version === 'v1') {
    const files = inputs(set);
    if (order !== undefined) {
      const at = (f: TorrentInputFile) => order.indexOf(f.path.join('/'));
      files.sort((a, b) => at(a) - at(b));
    }
    return (await createTorrent(files, options)).torrent;
  }
  return (await createTorrentV2(inputs(set), { ...options, hybrid: version === 'hybrid' })).torrent;
}

async function libtorrentCreate(set: FileSet, version: Version, pieceLength: number) {
  const work = await tempDir('lt-create');
  cleanups.push(work.remove);
  await writeSet(join(work.path, 'src'), set);
  const out = join(work.path, 'lt.torrent');
  const printed = execFileSync('/usr/bin/python3', [
    SCRIPT,
    'create',
    join(work.path, 'src'),
    set.name,
    out,
    version,
    String(pieceLength),
  ]).toString();
  const hashes = JSON.parse(printed) as { v1: string | null; v2: string | null };
  return { torrent: new Uint8Array(await readFile(out)), hashes };
}

/** Runs libtorrent_v2.py seed|leech; resolves once it listens. */
async function libtorrent(
  mode: 'seed' | 'leech',
  target: Uint8Array | string,
  set: FileSet,
  peerPort = 0,
) {
  const work = await tempDir(`lt-${mode}`);
  cleanups.push(work.remove);
  const save = join(work.path, 'data');
  await mkdir(save, { recursive: true });
  if (mode === 'seed') await writeSet(save, set);
  let arg = target;
  if (typeof target !== 'string') {
    arg = join(work.path, 'a.torrent');
    await writeFile(arg, target);
  }
  const proc: Proc = startProcess(
    '/usr/bin/python3',
    [SCRIPT, mode, arg as string, save, String(peerPort), '90'],
    join(work.path, 'libtorrent.log'),
  );
  cleanups.push(() => proc.stop());
  const lines = () =>
    proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  await waitFor(
    () => lines().some((l) => 'port' in l),
    20_000,
    () => proc.output(),
  );
  // A torrent libtorrent is still checking resets the connections made to it meanwhile.
  if (mode === 'seed')
    await waitFor(
      () => lines().some((l) => l.seeding === true),
      20_000,
      () => proc.output(),
    );
  return { proc, save, port: Number(lines().find((l) => 'port' in l)!.port) };
}

async function peerkit(options: {
  torrent?: Uint8Array;
  magnet?: string;
  seed?: FileSet;
  peers?: { host: string; port: number }[];
}) {
  const work = await tempDir('pk-v2');
  cleanups.push(work.remove);
  if (options.seed !== undefined) await writeSet(work.path, options.seed);
  const torrent = await Torrent.open({
    network: nodeNetwork(),
    directory: work.path,
    ...(options.torrent ? { info: torrentInfoFromMetainfo(parseTorrent(options.torrent)) } : {}),
    ...(options.magnet ? { magnet: options.magnet } : {}),
    listen: { host: '127.0.0.1', port: 0 },
    peers: options.peers ?? [],
  });
  cleanups.push(() => torrent.close());
  const errors: Error[] = [];
  torrent.on('error', (e) => errors.push(e));
  if (process.env.V2_DEBUG) {
    torrent.on('peer', (e) => console.log('peer', JSON.stringify(e)));
    torrent.on('hashFailure', (e) => console.log('hashFailure', e.index));
    torrent.on('error', (e) => console.log('error', e.message));
  }
  return { torrent, dir: work.path, errors };
}

function parsedLayers(file: Uint8Array): ReadonlyMap<string, Uint8Array> | undefined {
  return torrentInfoFromMetainfo(parseTorrent(file)).v2?.pieceLayers;
}

describe.skipIf(!hasLibtorrent)('BEP 52 with libtorrent 2.0', () => {
  describe('creating torrents: the same bytes and info-hashes as libtorrent', () => {
    for (const [setName, make] of Object.entries(FILE_SETS)) {
      for (const version of ['v1', 'v2', 'hybrid'] as const) {
        for (const pieceLength of [16_384, 65_536]) {
          it(`${setName}, ${version}, ${pieceLength / 1024} KiB pieces`, async () => {
            const set = make();
            const lt = await libtorrentCreate(set, version, pieceLength);
            const order = parseTorrent(lt.torrent).files.map((f) => f.path.slice(1).join('/'));
            const ours = await peerkitCreate(set, version, pieceLength, order);
            const parsed = parseTorrent(ours);
            expect(parsed.version).toBe(version);
            const hex = (b: Uint8Array | undefined) =>
              b === undefined ? null : Buffer.from(b).toString('hex');
            expect(hex(parsed.infoHash)).toBe(lt.hashes.v1);
            expect(hex(parsed.infoHashV2)).toBe(lt.hashes.v2);
            expect(Buffer.from(ours).equals(Buffer.from(lt.torrent))).toBe(true);
          });
        }
      }
    }
  });

  for (const version of ['v2', 'hybrid'] as const) {
    it(`a ${version} torrent libtorrent created downloads from libtorrent into peerkit`, async () => {
      const set = FILE_SETS.multi!();
      const { torrent: file } = await libtorrentCreate(set, version, 16_384);
      const seed = await libtorrent('seed', file, set);
      const { torrent, dir, errors } = await peerkit({
        torrent: file,
        peers: [{ host: '127.0.0.1', port: seed.port }],
      });
      await torrent.whenDone();
      await expectSet(dir, set);
      expect(errors).toEqual([]);
    }, 60_000);

    it(`libtorrent downloads a ${version} torrent peerkit created, from peerkit`, async () => {
      const set = FILE_SETS.multi!();
      const file = await peerkitCreate(set, version, 32_768);
      const { torrent } = await peerkit({ torrent: file, seed: set });
      expect(torrent.done).toBe(true);
      const leech = await libtorrent('leech', file, set, torrent.listenAddress!.port);
      expect(await leech.proc.exited).toBe(0);
      await expectSet(leech.save, set);
    }, 60_000);
  }

  it('a v2 magnet: peerkit fetches metadata and piece layers from libtorrent', async () => {
    const set = FILE_SETS.multi!();
    const { torrent: file } = await libtorrentCreate(set, 'v2', 16_384);
    const seed = await libtorrent('seed', file, set);
    const magnet = formatMagnet({ ...magnetFromMetainfo(parseTorrent(file)), peers: [] });
    expect(magnet).not.toContain('btih');
    const { torrent, dir, errors } = await peerkit({
      magnet,
      peers: [{ host: '127.0.0.1', port: seed.port }],
    });
    await torrent.whenDone();
    // The info dictionary holds no piece layers: these came by hash request and were proven.
    const hexes = (m: ReadonlyMap<string, Uint8Array> | undefined) =>
      [...(m ?? [])].map(([k, v]) => `${k}:${Buffer.from(v).toString('hex')}`).sort();
    expect(hexes(torrent.info?.v2?.pieceLayers)).toEqual(hexes(parsedLayers(file)));
    expect(torrent.info?.v2?.pieceLayers.size).toBe(3);
    await expectSet(dir, set);
    expect(errors).toEqual([]);
  }, 60_000);

  it('a v2 magnet: libtorrent fetches metadata and piece layers from peerkit', async () => {
    const set = FILE_SETS.multi!();
    const file = await peerkitCreate(set, 'v2', 16_384);
    const { torrent } = await peerkit({ torrent: file, seed: set });
    const magnet = formatMagnet({ ...magnetFromMetainfo(parseTorrent(file)), peers: [] });
    const leech = await libtorrent('leech', magnet, set, torrent.listenAddress!.port);
    expect(await leech.proc.exited).toBe(0);
    await expectSet(leech.save, set);
  }, 60_000);
});
