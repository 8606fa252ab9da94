/**
 * Trackers on loopback with real implementations: peerkit announces to opentracker (Debian
 * `opentracker`) over HTTP and over UDP (BEP 15) and finds the peer that announced before it;
 * aria2 (seeding) and libtorrent (leeching) announce to peerkit's UDP tracker server and find
 * each other through it. Run with `pnpm test:interop`; INTEROP_REQUIRED=1 fails on a missing
 * program instead of skipping.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ARIA2_LOOPBACK,
  freePort,
  haveClient,
  type Proc,
  startProcess,
  tempDir,
  waitFor,
} from '@peerkit/dev-kit/interop';
import { nodeNetwork } from '@peerkit/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { httpAnnounce, httpScrape } from '../src/tracker/http-tracker';
import { UdpTrackerClient } from '../src/tracker/udp-client';
import { UdpTrackerServer } from '../src/tracker/udp-server';
import { makeTorrent } from './fixtures';

const here = dirname(fileURLToPath(import.meta.url));
const required = process.env.INTEROP_REQUIRED === '1';
const hasOpentracker = haveClient('opentracker');
const hasAria2 = haveClient('aria2c');
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

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function track(proc: Proc): Proc {
  cleanups.push(() => proc.stop());
  return proc;
}

const infoHash = (fill: number) => new Uint8Array(20).fill(fill);
const peerId = (name: string) => new TextEncoder().encode(`-PK0100-${name.padEnd(12, 'x')}`);

describe.skipIf(!hasOpentracker)('opentracker', () => {
  async function opentracker(): Promise<number> {
    const work = await tempDir('opentracker');
    cleanups.push(work.remove);
    const port = await freePort();
    // Debian's opentracker serves only whitelisted info-hashes (hex, one per line); it reads
    // the list relative to its -d directory.
    // It chroots there and drops to `nobody` when run as root: let that user read the list.
    await chmod(work.path, 0o755);
    await writeFile(
      join(work.path, 'whitelist'),
      [0, 1, 2].map((n) => `${Buffer.from(infoHash(n)).toString('hex')}\n`).join(''),
    );
    const proc = track(
      startProcess(
        'opentracker',
        [
          '-i',
          '127.0.0.1',
          '-p',
          String(port),
          '-P',
          String(port),
          '-d',
          work.path,
          '-w',
          'whitelist',
        ],
        join(work.path, 'opentracker.log'),
      ),
    );
    const network = nodeNetwork();
    await waitFor(
      async () => {
        try {
          // Listening, and done loading its whitelist (an announce for a listed hash passes).
          await httpAnnounce(
            network,
            `http://127.0.0.1:${port}/announce`,
            {
              infoHash: infoHash(0),
              peerId: peerId('probe'),
              port: 1,
              uploaded: 0,
              downloaded: 0,
              left: 0,
              event: 'started',
            },
            { timeoutMs: 1_000 },
          );
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      () => `opentracker to listen: ${proc.output()}`,
    );
    return port;
  }

  it('HTTP: peerkit announces, finds the peer announced before it, and scrapes (BEP 48)', async () => {
    const port = await opentracker();
    const network = nodeNetwork();
    const url = `http://127.0.0.1:${port}/announce`;
    const common = { infoHash: infoHash(1), uploaded: 0, downloaded: 0 };
    const first = await httpAnnounce(network, url, {
      ...common,
      peerId: peerId('a'),
      port: 40_001,
      left: 0,
      event: 'started',
    });
    expect(first.interval).toBeGreaterThan(0);
    const second = await httpAnnounce(network, url, {
      ...common,
      peerId: peerId('b'),
      port: 40_002,
      left: 100,
      event: 'started',
    });
    expect(second.peers).toContainEqual({ host: '127.0.0.1', port: 40_001 });
    const [stats] = await httpScrape(network, url, [infoHash(1)]);
    expect(stats).toMatchObject({ seeders: 1, leechers: 1 });
  });

  it('UDP (BEP 15): peerkit announces, finds the peer announced before it, and scrapes', async () => {
    const port = await opentracker();
    const network = nodeNetwork();
    const client = await UdpTrackerClient.open(network, { host: '127.0.0.1', maxRetransmits: 1 });
    cleanups.push(() => client.close());
    const tracker = { host: '127.0.0.1', port };
    const common = { infoHash: infoHash(2), uploaded: 0, downloaded: 0 };
    await client.announce(tracker, {
      ...common,
      peerId: peerId('c'),
      port: 40_003,
      left: 0,
      event: 'started',
    });
    const second = await client.announce(tracker, {
      ...common,
      peerId: peerId('d'),
      port: 40_004,
      left: 5,
      event: 'started',
    });
    expect(second.peers).toContainEqual({ host: '127.0.0.1', port: 40_003 });
    expect(second.seeders).toBe(1);
    const [stats] = await client.scrape(tracker, [infoHash(2)]);
    expect(stats).toMatchObject({ seeders: 1, leechers: 1 });
  });
});

describe.skipIf(!hasAria2 || !hasLibtorrent)(
  "aria2 and libtorrent through peerkit's UDP tracker",
  () => {
    it('aria2 seeds, libtorrent leeches; they find each other only through the tracker', async () => {
      const server = await UdpTrackerServer.open(nodeNetwork(), { host: '127.0.0.1', interval: 5 });
      cleanups.push(() => server.close());
      const announce = `udp://127.0.0.1:${server.address.port}/announce`;
      const fixture = makeTorrent('via-tracker.bin', [600_000], 65_536, 51);
      const work = await tempDir('udp-tracker-interop');
      cleanups.push(work.remove);
      const seedDir = join(work.path, 'seed');
      await mkdir(seedDir, { recursive: true });
      await writeFile(join(seedDir, 'via-tracker.bin'), fixture.data);
      await writeFile(join(work.path, 'a.torrent'), fixture.torrentFile(announce));
      const aria2Port = await freePort();
      track(
        startProcess(
          'aria2c',
          [
            ...ARIA2_LOOPBACK,
            // aria2 speaks UDP trackers through its DHT socket: DHT on, with no entry point
            // and its table in the work directory, so it contacts nobody else.
            '--enable-dht=true',
            `--dht-listen-port=${await freePort()}`,
            `--dht-file-path=${join(work.path, 'dht.dat')}`,
            '--console-log-level=notice',
            `--dir=${seedDir}`,
            '-V',
            '--seed-ratio=0.0',
            '--seed-time=60',
            `--listen-port=${aria2Port}`,
            join(work.path, 'a.torrent'),
          ],
          join(work.path, 'aria2.log'),
        ),
      );
      await waitFor(
        () => server.peers(fixture.info.infoHash).some((p) => p.port === aria2Port),
        30_000,
        'aria2 to announce to the UDP tracker',
      );
      const leechDir = join(work.path, 'leech');
      await mkdir(leechDir, { recursive: true });
      const lt = track(
        startProcess(
          '/usr/bin/python3',
          [
            join(here, 'interop', 'libtorrent_mse.py'),
            'leech',
            join(work.path, 'a.torrent'),
            leechDir,
            '0',
            '60',
          ],
          join(work.path, 'libtorrent.log'),
        ),
      );
      expect(await lt.exited).toBe(0);
      expect(
        Buffer.compare(
          await readFile(join(leechDir, 'via-tracker.bin')),
          Buffer.from(fixture.data),
        ),
      ).toBe(0);
      expect(server.peers(fixture.info.infoHash).length).toBeGreaterThanOrEqual(2);
    });
  },
);
