/**
 * MSE/PE interop on loopback: peerkit under `encryption: 'require'` (RC4 only, plaintext
 * refused) against aria2c (`--bt-require-crypto --bt-min-crypto-level=arc4`), Transmission
 * 3.00 (`encryption: 2`, required) and libtorrent 2.0 (`pe_forced`, `pe_rc4`), both directions.
 * The other side confirms the connection is encrypted: libtorrent's peer info (`rc4_encrypted`);
 * for aria2 and Transmission every byte goes through a recording relay, which must never see
 * the plaintext `\x13BitTorrent protocol` handshake in either direction.
 * Run with `pnpm test:interop`; under INTEROP_REQUIRED=1 a missing client fails the run.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import type { TorrentOptions } from '../src/torrent-options';
import { type Fixture, makeTorrent } from './fixtures';
import { startTracker } from './interop-helpers';

const here = dirname(fileURLToPath(import.meta.url));
const required = process.env.INTEROP_REQUIRED === '1';
const hasAria2 = haveClient('aria2c');
const hasTransmission = haveClient('transmission-daemon') && haveClient('transmission-remote');
const hasLibtorrent = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import libtorrent'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (required && !hasLibtorrent)
  throw new Error('INTEROP_REQUIRED=1 but python3-libtorrent is missing');

const BT_PREFIX = Buffer.from('\x13BitTorrent protocol', 'latin1');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function track(proc: Proc): Proc {
  cleanups.push(() => proc.stop());
  return proc;
}

async function writeFixture(dir: string, fixture: Fixture): Promise<void> {
  for (const [path, bytes] of fixture.files) {
    await mkdir(join(dir, ...path.split('/').slice(0, -1)), { recursive: true });
    await writeFile(join(dir, ...path.split('/')), bytes);
  }
}

async function expectFiles(dir: string, fixture: Fixture): Promise<void> {
  for (const [path, bytes] of fixture.files) {
    const got = await readFile(join(dir, ...path.split('/')));
    expect(got.equals(Buffer.from(bytes))).toBe(true);
  }
}

/**
 * A TCP relay on 127.0.0.1 to `target` that keeps every byte of every connection (the
 * capture). `sawPlaintextHandshake()` is true when any connection, either direction, carried
 * `\x13BitTorrent protocol`.
 */
async function recordingRelay(target: () => number) {
  const flows: Buffer[][] = [];
  const server: Server = createServer((client) => {
    const up: Buffer[] = [];
    const down: Buffer[] = [];
    flows.push(up, down);
    const remote = createConnection({ host: '127.0.0.1', port: target() });
    client.on('data', (d) => up.push(Buffer.from(d)));
    remote.on('data', (d) => down.push(Buffer.from(d)));
    client.pipe(remote);
    remote.pipe(client);
    const end = () => {
      client.destroy();
      remote.destroy();
    };
    client.on('error', end);
    remote.on('error', end);
    client.on('close', end);
    remote.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  );
  return {
    port,
    bytes: () => flows.reduce((n, f) => n + f.reduce((m, b) => m + b.length, 0), 0),
    sawPlaintextHandshake: () => flows.some((f) => Buffer.concat(f).includes(BT_PREFIX)),
  };
}

async function peerkit(
  fixture: Fixture,
  seed: boolean,
  extra: Partial<TorrentOptions> = {},
): Promise<{ torrent: Torrent; dir: string }> {
  const dir = await tempDir(seed ? 'mse-seed' : 'mse-leech');
  cleanups.push(dir.remove);
  if (seed) await writeFixture(dir.path, fixture);
  const torrent = await Torrent.open({
    network: nodeNetwork(),
    directory: dir.path,
    info: fixture.info,
    fs: nodeFileSystem(),
    recheck: seed,
    resume: false,
    listen: { host: '127.0.0.1' },
    encryption: 'require',
    ...extra,
  });
  cleanups.push(() => torrent.close());
  return { torrent, dir: dir.path };
}

const fixture = () => makeTorrent('mse.bin', [3 * 262_144 + 7_777], 262_144, 31);
/** Large enough that libtorrent's status poll sees the connection while it transfers. */
const bigFixture = () => makeTorrent('mse-big.bin', [24 * 262_144 + 7_777], 262_144, 32);

describe.skipIf(!hasLibtorrent)('libtorrent pe_forced', () => {
  /** libtorrent_mse.py in `mode`; its listen port and a reader for its status lines. */
  async function libtorrent(mode: 'seed' | 'leech', f: Fixture, peerPort = 0) {
    const work = await tempDir(`lt-${mode}`);
    cleanups.push(work.remove);
    const save = join(work.path, 'data');
    await mkdir(save, { recursive: true });
    if (mode === 'seed') await writeFixture(save, f);
    await writeFile(join(work.path, 'a.torrent'), f.torrentFile());
    const proc = track(
      startProcess(
        '/usr/bin/python3',
        [
          join(here, 'interop', 'libtorrent_mse.py'),
          mode,
          join(work.path, 'a.torrent'),
          save,
          String(peerPort),
          '90',
        ],
        join(work.path, 'libtorrent.log'),
      ),
    );
    const lines = () =>
      proc
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, number | string>);
    await waitFor(
      () => lines().some((l) => 'port' in l),
      20_000,
      () => `libtorrent: ${proc.output()}`,
    );
    const port = Number(lines().find((l) => 'port' in l)!.port);
    const seenRc4 = () => Math.max(0, ...lines().map((l) => Number(l.seen_rc4 ?? 0)));
    return { proc, port, save, seenRc4 };
  }

  it('libtorrent seeder -> peerkit leecher (peerkit dials, RC4)', async () => {
    const f = bigFixture();
    const lt = await libtorrent('seed', f);
    const { torrent, dir } = await peerkit(f, false, {
      peers: [{ host: '127.0.0.1', port: lt.port }],
    });
    await torrent.whenDone();
    await expectFiles(dir, f);
    await waitFor(() => lt.seenRc4() > 0, 10_000, 'libtorrent to report an rc4_encrypted peer');
  });

  it('peerkit seeder -> libtorrent leecher (libtorrent dials, RC4)', async () => {
    const f = bigFixture();
    const { torrent } = await peerkit(f, true);
    const lt = await libtorrent('leech', f, torrent.listenAddress!.port);
    expect(await lt.proc.exited).toBe(0);
    await expectFiles(lt.save, f);
    expect(lt.seenRc4()).toBeGreaterThan(0);
  });
});

const ARIA2_CRYPTO = [
  ...ARIA2_LOOPBACK,
  '--allow-overwrite=true',
  '--console-log-level=notice',
  '--bt-tracker-connect-timeout=5',
  '--bt-tracker-timeout=5',
  '--bt-stop-timeout=90',
  '--bt-require-crypto=true',
  '--bt-min-crypto-level=arc4',
];

describe.skipIf(!hasAria2)('aria2c with --bt-require-crypto', () => {
  it('peerkit seeder -> aria2 leecher (aria2 dials through the recording relay)', async () => {
    const f = fixture();
    const { torrent } = await peerkit(f, true);
    const relay = await recordingRelay(() => torrent.listenAddress!.port);
    const t = await startTracker(() => [{ host: '127.0.0.1', port: relay.port }]);
    cleanups.push(() => t.close());
    const work = await tempDir('mse-aria2-leech');
    cleanups.push(work.remove);
    await writeFile(join(work.path, 'a.torrent'), f.torrentFile(t.url));
    const aria2 = track(
      startProcess(
        'aria2c',
        [
          ...ARIA2_CRYPTO,
          `--dir=${work.path}/out`,
          '--seed-time=0',
          `--listen-port=${await freePort()}`,
          join(work.path, 'a.torrent'),
        ],
        join(work.path, 'aria2.log'),
      ),
    );
    expect(await aria2.exited).toBe(0);
    await expectFiles(join(work.path, 'out'), f);
    expect(relay.bytes()).toBeGreaterThan(f.data.length);
    expect(relay.sawPlaintextHandshake()).toBe(false);
  });

  it('aria2 seeder -> peerkit leecher (peerkit dials through the recording relay)', async () => {
    const f = fixture();
    const t = await startTracker(() => []);
    cleanups.push(() => t.close());
    const work = await tempDir('mse-aria2-seed');
    cleanups.push(work.remove);
    await writeFixture(join(work.path, 'data'), f);
    await writeFile(join(work.path, 'a.torrent'), f.torrentFile(t.url));
    const port = await freePort();
    track(
      startProcess(
        'aria2c',
        [
          ...ARIA2_CRYPTO,
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
    await waitFor(() => t.announcedPorts.includes(port), 30_000, 'aria2 to announce');
    const relay = await recordingRelay(() => port);
    const { torrent, dir } = await peerkit(f, false, {
      peers: [{ host: '127.0.0.1', port: relay.port }],
    });
    await torrent.whenDone();
    await expectFiles(dir, f);
    expect(relay.sawPlaintextHandshake()).toBe(false);
  });
});

describe.skipIf(!hasTransmission)('Transmission with encryption required', () => {
  async function daemon(name: string) {
    const work = await tempDir(name);
    cleanups.push(work.remove);
    const download = join(work.path, 'download');
    await mkdir(download, { recursive: true });
    const d = await startTransmissionDaemon(work.path, download, { encryption: 2 });
    track(d.proc);
    return { work: work.path, download, peerPort: d.peerPort, remote: d.remote };
  }
  const percentDone = (info: string) => /Percent Done: ([\d.]+)%/.exec(info)?.[1];

  it('Transmission seeder -> peerkit leecher (peerkit dials through the recording relay)', async () => {
    const f = fixture();
    const d = await daemon('mse-tr-seed');
    await writeFixture(d.download, f);
    await writeFile(join(d.work, 'a.torrent'), f.torrentFile());
    d.remote('-a', join(d.work, 'a.torrent'));
    d.remote('-t', '1', '-v');
    await waitFor(
      () => percentDone(d.remote('-t', '1', '-i')) === '100',
      30_000,
      'Transmission to verify',
    );
    const relay = await recordingRelay(() => d.peerPort);
    const { torrent, dir } = await peerkit(f, false, {
      peers: [{ host: '127.0.0.1', port: relay.port }],
    });
    await torrent.whenDone();
    await expectFiles(dir, f);
    expect(relay.sawPlaintextHandshake()).toBe(false);
  });

  it('peerkit seeder -> Transmission leecher (the seeder dials through the recording relay)', async () => {
    const f = fixture();
    const d = await daemon('mse-tr-leech');
    await writeFile(join(d.work, 'a.torrent'), f.torrentFile());
    d.remote('-a', join(d.work, 'a.torrent'));
    const relay = await recordingRelay(() => d.peerPort);
    await peerkit(f, true, { peers: [{ host: '127.0.0.1', port: relay.port }] });
    await waitFor(
      () => percentDone(d.remote('-t', '1', '-i')) === '100',
      60_000,
      'Transmission to download',
    );
    await expectFiles(d.download, f);
    expect(relay.bytes()).toBeGreaterThan(f.data.length);
    expect(relay.sawPlaintextHandshake()).toBe(false);
  });
});
