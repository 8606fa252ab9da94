/**
 * Interop on loopback with real clients: aria2c 1.36 and transmission-daemon 3.00.
 * Run with `pnpm test:interop`; under INTEROP_REQUIRED=1 a missing client fails the run.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ARIA2_LOOPBACK,
  freePort,
  haveClient,
  type Proc,
  startProcess,
  startTransmissionDaemon,
  tempDir,
  waitFor,
} from '@peerkit/dev-kit/interop';
import { nodeNetwork } from '@peerkit/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import { type Fixture, makeTorrent } from './fixtures';
import { startTracker, type Tracker } from './interop-helpers';

/** aria2c on loopback, overwriting, giving up on trackers after 5 s. */
const ARIA2_OPTIONS = [
  ...ARIA2_LOOPBACK,
  '--allow-overwrite=true',
  '--console-log-level=notice',
  '--bt-tracker-connect-timeout=5',
  '--bt-tracker-timeout=5',
  '--bt-stop-timeout=90',
];

const hasAria2 = haveClient('aria2c');
const hasTransmission = haveClient('transmission-daemon') && haveClient('transmission-remote');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function writeFixture(dir: string, fixture: Fixture): Promise<void> {
  for (const [path, bytes] of fixture.files) {
    await mkdir(join(dir, ...path.split('/').slice(0, -1)), { recursive: true });
    await writeFile(join(dir, ...path.split('/')), bytes);
  }
}

async function expectFiles(dir: string, fixture: Fixture): Promise<void> {
  for (const [path, bytes] of fixture.files) {
    const got = await readFile(join(dir, ...path.split('/')));
    expect(got.length).toBe(bytes.length);
    expect(got.equals(Buffer.from(bytes))).toBe(true);
  }
}

async function peerkitSeeder(
  fixture: Fixture,
  extra: {
    peers?: { host: string; port: number }[];
    encryption?: 'prefer' | 'require' | 'plain';
  } = {},
) {
  const dir = await tempDir('seed');
  cleanups.push(dir.remove);
  await writeFixture(dir.path, fixture);
  const torrent = await Torrent.open({
    network: nodeNetwork(),
    directory: dir.path,
    info: fixture.info,
    fs: nodeFileSystem(),
    recheck: true,
    resume: false,
    listen: { host: '127.0.0.1' },
    ...extra,
  });
  cleanups.push(() => torrent.close());
  expect(torrent.done).toBe(true);
  return torrent;
}

async function peerkitLeecher(
  fixture: Fixture,
  peer: { host: string; port: number },
  magnet = false,
) {
  const dir = await tempDir('leech');
  cleanups.push(dir.remove);
  const torrent = await Torrent.open({
    network: nodeNetwork(),
    directory: dir.path,
    ...(magnet ? { infoHash: fixture.info.infoHash } : { info: fixture.info }),
    fs: nodeFileSystem(),
    peers: [peer],
  });
  cleanups.push(() => torrent.close());
  return { torrent, dir: dir.path };
}

async function tracker(peers: () => { host: string; port: number }[]): Promise<Tracker> {
  const t = await startTracker(peers);
  cleanups.push(() => t.close());
  return t;
}

function track(proc: Proc): Proc {
  cleanups.push(() => proc.stop());
  return proc;
}

const fixtureA = () => makeTorrent('interop.bin', [3 * 262_144 + 12_345], 262_144, 11);
const fixtureMulti = () => makeTorrent('interop-dir', [200_000, 1, 350_000], 65_536, 12);

describe.skipIf(!hasAria2)('aria2c', () => {
  /** aria2 downloading `source` (a .torrent path or a magnet) into `work`/out; its exit code. */
  async function aria2Leecher(
    work: string,
    source: string,
    extra: string[] = [],
  ): Promise<number | null> {
    const aria2 = track(
      startProcess(
        'aria2c',
        [
          ...ARIA2_OPTIONS,
          `--dir=${work}/out`,
          '--seed-time=0',
          ...extra,
          `--listen-port=${await freePort()}`,
          source,
        ],
        join(work, 'aria2.log'),
      ),
    );
    return aria2.exited;
  }

  /** aria2 seeding `fixture` (checked with -V) for 10 s; resolves once it announces. */
  async function aria2Seeder(fixture: Fixture, name: string): Promise<number> {
    const t = await tracker(() => []);
    const work = await tempDir(name);
    cleanups.push(work.remove);
    await writeFixture(join(work.path, 'data'), fixture);
    await writeFile(join(work.path, 'a.torrent'), fixture.torrentFile(t.url));
    const port = await freePort();
    track(
      startProcess(
        'aria2c',
        [
          ...ARIA2_OPTIONS,
          `--dir=${work.path}/data`,
          '-V',
          '--seed-ratio=0.0',
          '--seed-time=10',
          `--listen-port=${port}`,
          join(work.path, 'a.torrent'),
        ],
        join(work.path, 'aria2.log'),
      ),
    );
    // aria2 listens once it has checked its files.
    await waitFor(() => t.announcedPorts.includes(port), 30_000, 'aria2 to announce');
    return port;
  }

  it('peerkit seeder -> aria2 leecher (aria2 retries in plain after MSE is refused)', async () => {
    const fixture = fixtureMulti();
    // Plain BitTorrent only (under `prefer`, the default, aria2's MSE opening is accepted:
    // test/mse.interop.test.ts).
    const seeder = await peerkitSeeder(fixture, { encryption: 'plain' });
    const refused: string[] = [];
    seeder.on('peer', (e) => {
      const code = (e.error as { code?: string } | undefined)?.code;
      if (e.type === 'rejected' && code !== undefined) refused.push(code);
    });
    const t = await tracker(() => [seeder.listenAddress!]);
    const work = await tempDir('aria2-leech');
    cleanups.push(work.remove);
    await writeFile(join(work.path, 'a.torrent'), fixture.torrentFile(t.url));
    expect(await aria2Leecher(work.path, join(work.path, 'a.torrent'))).toBe(0);
    await expectFiles(join(work.path, 'out'), fixture);
    expect(seeder.stats().uploaded).toBeGreaterThanOrEqual(fixture.data.length);
    // aria2 opened with an MSE/PE handshake first, which peerkit ended cleanly.
    expect(refused).toContain('INVALID_HANDSHAKE');
  });

  it('aria2 seeder -> peerkit leecher', async () => {
    const fixture = fixtureA();
    const port = await aria2Seeder(fixture, 'aria2-seed');
    const { torrent, dir } = await peerkitLeecher(fixture, { host: '127.0.0.1', port });
    await torrent.whenDone();
    await torrent.close();
    await expectFiles(dir, fixture);
  });

  it('magnet: aria2 seeder -> peerkit leecher fetches the metadata (BEP 9)', async () => {
    const fixture = fixtureA();
    const port = await aria2Seeder(fixture, 'aria2-seed-magnet');
    const { torrent, dir } = await peerkitLeecher(fixture, { host: '127.0.0.1', port }, true);
    await torrent.whenDone();
    expect(torrent.info?.name).toBe('interop.bin');
    await torrent.close();
    await expectFiles(dir, fixture);
  });

  it('magnet: peerkit seeder -> aria2 leecher fetches the metadata from peerkit', async () => {
    const fixture = fixtureMulti();
    const seeder = await peerkitSeeder(fixture);
    const t = await tracker(() => [seeder.listenAddress!]);
    const work = await tempDir('aria2-magnet');
    cleanups.push(work.remove);
    const hex = Buffer.from(fixture.info.infoHash).toString('hex');
    const magnet = `magnet:?xt=urn:btih:${hex}&dn=interop-dir&tr=${encodeURIComponent(t.url)}`;
    expect(await aria2Leecher(work.path, magnet, ['--bt-save-metadata=false'])).toBe(0);
    await expectFiles(join(work.path, 'out'), fixture);
  });
});

describe.skipIf(!hasTransmission)('transmission-daemon', () => {
  /** transmission-daemon downloading to (or seeding from) `<work>/download`. */
  async function startDaemon(name: string) {
    const work = await tempDir(name);
    cleanups.push(work.remove);
    const download = join(work.path, 'download');
    await mkdir(download, { recursive: true });
    const daemon = await startTransmissionDaemon(work.path, download);
    track(daemon.proc);
    return { work: work.path, download, peerPort: daemon.peerPort, remote: daemon.remote };
  }

  const percentDone = (info: string) => /Percent Done: ([\d.]+)%/.exec(info)?.[1];

  it('Transmission seeder -> peerkit leecher (peerkit dials Transmission)', async () => {
    const fixture = fixtureMulti();
    const d = await startDaemon('tr-seed');
    await writeFixture(d.download, fixture);
    await writeFile(join(d.work, 'a.torrent'), fixture.torrentFile());
    d.remote('-a', join(d.work, 'a.torrent'));
    d.remote('-t', '1', '-v');
    await waitFor(
      () => percentDone(d.remote('-t', '1', '-i')) === '100',
      30_000,
      'Transmission to verify',
    );
    const { torrent, dir } = await peerkitLeecher(fixture, { host: '127.0.0.1', port: d.peerPort });
    await torrent.whenDone();
    await torrent.close();
    await expectFiles(dir, fixture);
  });

  it('peerkit seeder -> Transmission leecher (the seeder dials Transmission)', async () => {
    const fixture = fixtureA();
    const d = await startDaemon('tr-leech');
    await writeFile(join(d.work, 'a.torrent'), fixture.torrentFile());
    d.remote('-a', join(d.work, 'a.torrent'));
    await peerkitSeeder(fixture, { peers: [{ host: '127.0.0.1', port: d.peerPort }] });
    await waitFor(
      () => percentDone(d.remote('-t', '1', '-i')) === '100',
      60_000,
      'Transmission to download',
    );
    await expectFiles(d.download, fixture);
  });
});
