/**
 * File selection in netsim (virtual time, deterministic from the seed; a failure prints it): a
 * selective download writes exactly the selected files (no partial file of another, the shared
 * bytes kept in part files), the rest of the swarm still gets from it every piece it has, a
 * restart resumes without re-fetching, and a file selected later is completed from the bytes
 * kept aside.
 */
import { replayHint, type SimHost, Simulation, seedFromEnv } from '@peerkit/netsim';
import { describe, expect, it } from 'vitest';
import type { FilePriority } from '../src/file-priorities';
import { type MemoryFileSystem, memoryFileSystem } from '../src/storage/file-system';
import { FileLayout } from '../src/storage/layout';
import { partRegion } from '../src/storage/part-file';
import { SEED_REDIAL_MS } from '../src/swarm-policy';
import { Torrent } from '../src/torrent';
import type { TorrentOptions } from '../src/torrent-options';
import { type Fixture, makeTorrent, plant } from './fixtures';

const PORT = 6881;
// Boundaries fall inside pieces, so every selected file shares pieces with skipped ones.
const SIZES = [50_000, 70_000, 10_000, 90_000, 40_000, 25_000];
const PIECE = 32_768;

async function withSeed(name: string, seed: number, body: (sim: Simulation) => Promise<void>) {
  const sim = new Simulation({ seed, link: { latency: 20, jitter: 10, bandwidth: 500_000 } });
  try {
    await sim.run(() => body(sim), { maxTimeMs: 10 * 60_000 });
  } catch (error) {
    console.error(`${name} failed; replay with ${replayHint(seed)}`);
    throw error;
  }
}

function open(
  host: SimHost,
  fs: MemoryFileSystem,
  fixture: Fixture,
  extra: Partial<TorrentOptions> = {},
): Promise<Torrent> {
  return Torrent.open({
    network: host.network,
    directory: '/data',
    info: fixture.info,
    fs,
    listen: { host: host.address, port: PORT },
    resumeIntervalMs: 500,
    ...extra,
  });
}

function pathOf(fixture: Fixture, file: number): string {
  return `/data/${fixture.info.files[file]!.path.join('/')}`;
}

function fileBytes(fixture: Fixture, file: number): Uint8Array {
  return fixture.files.get(fixture.info.files[file]!.path.join('/'))!;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a).equals(Buffer.from(b));
}

function prioritiesOf(selected: readonly number[]): FilePriority[] {
  return SIZES.map((_, i) => (selected.includes(i) ? 'normal' : 'skip'));
}

describe('file selection (netsim)', () => {
  it('a selective download writes exactly the selected files, and serves every piece it has', async () => {
    const seed = seedFromEnv(2_112);
    await withSeed('selection', seed, async (sim) => {
      const fixture = makeTorrent('sel', SIZES, PIECE, seed);
      const layout = new FileLayout(fixture.info.files, PIECE);
      const seedHost = sim.addHost();
      const seedFs = memoryFileSystem();
      plant(seedFs, '/data', fixture);
      const seeder = await open(seedHost, seedFs, fixture, { recheck: true });
      expect(seeder.done).toBe(true);

      const selected = [1, 3];
      const aHost = sim.addHost();
      const aFs = memoryFileSystem();
      const a = await open(aHost, aFs, fixture, {
        filePriorities: prioritiesOf(selected),
        peers: [{ host: seedHost.address, port: PORT }],
      });
      const aHave = piecesOf(a);
      await a.whenDone();
      expect(a.stats().verifiedPieces).toBe(aHave.length);
      // Exactly the selected files in the user's tree; no file, not even an empty one, else.
      for (let i = 0; i < SIZES.length; i++) {
        const got = aFs.snapshot(pathOf(fixture, i));
        if (selected.includes(i)) expect(sameBytes(got, fileBytes(fixture, i))).toBe(true);
        else expect(await aFs.lstat(pathOf(fixture, i))).toBeUndefined();
      }
      // Every piece touching a selected file, and none other, was downloaded.
      const wanted = new Set<number>();
      for (const i of selected) {
        const { first, last } = layout.piecesOfFile(i);
        for (let p = first; p <= last; p++) wanted.add(p);
      }
      expect(new Set(aHave)).toEqual(wanted);
      // The skipped files' bytes of shared pieces are in part files, in the state area.
      const hex = Buffer.from(fixture.info.infoHash).toString('hex');
      const part2 = aFs.snapshot(`/data/.peerkit/${hex}.parts/2`);
      expect(part2).toBeDefined();
      expect(part2!.length).toBe(partRegion(layout, 2).partLength);
      expect(sameBytes(part2, fileBytes(fixture, 2))).toBe(true); // 10 KB: kept whole

      // The rest of the swarm: a leecher that only reaches `a` gets every piece `a` has.
      const bHost = sim.addHost();
      const bFs = memoryFileSystem();
      const b = await open(bHost, bFs, fixture, { peers: [{ host: aHost.address, port: PORT }] });
      const bHave = piecesOf(b);
      await new Promise<void>((resolve) => {
        const off = b.on('piece', () => {
          if (aHave.every((p) => bHave.includes(p))) {
            off();
            resolve();
          }
        });
      });
      expect(b.stats().verifiedPieces).toBe(aHave.length);
      expect(b.done).toBe(false);
      await b.close();

      // A restart resumes: nothing re-fetched, the boundary pieces trusted from the part files.
      await a.close();
      const again = await open(aHost, aFs, fixture, { filePriorities: prioritiesOf(selected) });
      expect(again.done).toBe(true);
      expect(again.stats().verifiedPieces).toBe(aHave.length);

      // Selecting a file later: it is created and completed, its shared bytes from the part file.
      const downloadedBefore = again.stats().downloaded;
      again.addPeer({ host: seedHost.address, port: PORT });
      await again.setFilePriorities(prioritiesOf([1, 2, 3]));
      await again.whenDone();
      expect(sameBytes(aFs.snapshot(pathOf(fixture, 2)), fileBytes(fixture, 2))).toBe(true);
      // File 2 lies in pieces shared with files 1 and 3: nothing had to be fetched for it.
      expect(again.stats().downloaded - downloadedBefore).toBe(0);
      // Then one more that needs its own pieces: the seeder, left when both were complete, is
      // dialled again (no `addPeer`; virtual time, well before a seed redial would be due).
      const before = sim.now;
      await again.select([0, 1, 2, 3]);
      await again.whenDone();
      expect(sameBytes(aFs.snapshot(pathOf(fixture, 0)), fileBytes(fixture, 0))).toBe(true);
      expect(sim.now - before).toBeLessThan(SEED_REDIAL_MS);
      expect(await aFs.lstat(pathOf(fixture, 4))).toBeUndefined();
      await again.close();
      await seeder.close();
    });
  });

  it('high-priority files complete before normal ones', async () => {
    const seed = seedFromEnv(2_113);
    await withSeed('priority', seed, async (sim) => {
      const fixture = makeTorrent('prio', [200_000, 200_000, 200_000], 16_384, seed);
      const layout = new FileLayout(fixture.info.files, 16_384);
      const seedHost = sim.addHost();
      const seedFs = memoryFileSystem();
      plant(seedFs, '/data', fixture);
      const seeder = await open(seedHost, seedFs, fixture, { recheck: true });
      const host = sim.addHost();
      sim.setLink(seedHost, host, { latency: 20, bandwidth: 200_000 });
      const fs = memoryFileSystem();
      const leecher = await open(host, fs, fixture, {
        filePriorities: ['normal', 'skip', 'high'],
        peers: [{ host: seedHost.address, port: PORT }],
      });
      const high = layout.piecesOfFile(2);
      const order: number[] = [];
      leecher.on('piece', ({ index }) => order.push(index));
      await leecher.whenDone();
      // Every piece of the high file came before any piece only of the normal file, give or take
      // the pieces already requested when the first pieces arrived (one pipeline).
      const lastHigh = Math.max(...order.map((p, k) => (p >= high.first ? k : -1)));
      const highCount = high.last - high.first + 1;
      expect(lastHigh).toBeLessThan(highCount + 4);
      expect(await fs.lstat(`/data/prio/file1.bin`)).toBeUndefined();
      await leecher.close();
      await seeder.close();
    });
  });
});

/** The pieces `t` verifies from now on, as they come. */
function piecesOf(t: Torrent): number[] {
  const out: number[] = [];
  t.on('piece', ({ index }) => out.push(index));
  return out;
}
