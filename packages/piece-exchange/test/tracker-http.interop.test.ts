/**
 * HTTP trackers on loopback with real implementations:
 *
 * - peerkit's `TrackerAnnouncer` announces to `bittorrent-tracker` (npm, the tracker of
 *   WebTorrent) over HTTP and over UDP (BEP 15) and finds the peer that announced there before
 *   it (over the other protocol);
 * - aria2 (seeding) and libtorrent (leeching) announce to peerkit's HTTP tracker server and find
 *   each other through it (the HTTP twin of tracker.interop.test.ts's UDP test).
 *
 * Run with `pnpm test:interop`; INTEROP_REQUIRED=1 fails on a missing program instead of
 * skipping.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
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
import Server from 'bittorrent-tracker/server';
import { afterEach, describe, expect, it } from 'vitest';
import { type TrackerAnnounceEvent, TrackerAnnouncer } from '../src/tracker/announcer';
import { type HttpTrackerRequestLog, HttpTrackerServer } from '../src/tracker/http-server';
import { httpAnnounce } from '../src/tracker/http-tracker';
import { UdpTrackerClient } from '../src/tracker/udp-client';
import { makeTorrent } from './fixtures';

const here = dirname(fileURLToPath(import.meta.url));
const required = process.env.INTEROP_REQUIRED === '1';
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
if (required && !hasAria2) throw new Error('INTEROP_REQUIRED=1 but aria2c is missing');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function track(proc: Proc): Proc {
  cleanups.push(() => proc.stop());
  return proc;
}

const peerId = (name: string) => new TextEncoder().encode(`-PK0100-${name.padEnd(12, 'x')}`);

/** bittorrent-tracker's Server, HTTP and UDP on 127.0.0.1 (UDP over IPv6 on ::1). */
async function bittorrentTracker(): Promise<{ http: number; udp: number }> {
  const server = new Server({ http: true, udp: true, ws: false, stats: false, interval: 60_000 });
  const errors: unknown[] = [];
  server.on('error', (error: unknown) => errors.push(error));
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
    server.listen({ http: 0, udp: 0 }, { http: '127.0.0.1', udp: '127.0.0.1', udp6: '::1' });
  });
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    http: (server.http!.address() as AddressInfo).port,
    udp: (server.udp!.address() as AddressInfo).port,
  };
}

/** Runs a `TrackerAnnouncer` until its `started` is answered; returns that answer. */
async function announceOnce(
  tiers: string[][],
  infoHash: Uint8Array,
): Promise<{ answer: TrackerAnnounceEvent; failures: string[] }> {
  const announcer = new TrackerAnnouncer({
    network: nodeNetwork(),
    tiers,
    infoHash,
    peerId: peerId('announcer'),
    port: 40_100,
    udpHost: '127.0.0.1',
    stats: () => ({ uploaded: 0, downloaded: 0, left: 1000 }),
  });
  cleanups.push(() => announcer.close());
  const failures: string[] = [];
  announcer.on('error', (e) => failures.push(`${e.url}: ${e.code} ${e.message}`));
  const answered = new Promise<TrackerAnnounceEvent>((resolve) =>
    announcer.once('announce', resolve),
  );
  announcer.start();
  const answer = await Promise.race([
    answered,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no announce answer: ${failures.join('; ')}`)), 20_000),
    ),
  ]);
  return { answer, failures };
}

describe('bittorrent-tracker (npm)', () => {
  it('HTTP: peerkit announces and finds the peer that announced over UDP', async () => {
    const ports = await bittorrentTracker();
    const infoHash = new Uint8Array(20).fill(0x21);
    const client = await UdpTrackerClient.open(nodeNetwork(), {
      host: '127.0.0.1',
      maxRetransmits: 1,
    });
    cleanups.push(() => client.close());
    await client.announce(
      { host: '127.0.0.1', port: ports.udp },
      {
        infoHash,
        peerId: peerId('seed'),
        port: 40_001,
        uploaded: 0,
        downloaded: 0,
        left: 0,
        event: 'started',
      },
    );
    const { answer, failures } = await announceOnce(
      [[`http://127.0.0.1:${ports.http}/announce`]],
      infoHash,
    );
    expect(failures).toEqual([]);
    expect(answer.event).toBe('started');
    expect(answer.peers).toContainEqual({ host: '127.0.0.1', port: 40_001 });
    expect(answer.seeders).toBe(1);
    expect(answer.interval).toBe(60);
  });

  it('UDP (BEP 15): peerkit announces and finds the peer that announced over HTTP', async () => {
    const ports = await bittorrentTracker();
    const infoHash = new Uint8Array(20).fill(0x22);
    await httpAnnounce(nodeNetwork(), `http://127.0.0.1:${ports.http}/announce`, {
      infoHash,
      peerId: peerId('seed2'),
      port: 40_002,
      uploaded: 0,
      downloaded: 0,
      left: 0,
      event: 'started',
    });
    // A dead first tier (nobody on that port) is skipped for the UDP one (BEP 12).
    const dead = await freePort();
    const { answer, failures } = await announceOnce(
      [[`http://127.0.0.1:${dead}/announce`], [`udp://127.0.0.1:${ports.udp}/announce`]],
      infoHash,
    );
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(new RegExp(`^http://127.0.0.1:${dead}/announce: TIMEOUT`));
    expect(answer.url).toBe(`udp://127.0.0.1:${ports.udp}/announce`);
    expect(answer.peers).toContainEqual({ host: '127.0.0.1', port: 40_002 });
  });
});

describe.skipIf(!hasAria2 || !hasLibtorrent)(
  "aria2 and libtorrent through peerkit's HTTP tracker",
  () => {
    it('aria2 seeds, libtorrent leeches; they find each other only through the tracker', async () => {
      const log: HttpTrackerRequestLog[] = [];
      const server = await HttpTrackerServer.open(
        nodeNetwork(),
        { host: '127.0.0.1', interval: 5 },
        (entry) => log.push(entry),
      );
      cleanups.push(() => server.close());
      const announce = server.announceUrl;
      const fixture = makeTorrent('via-http-tracker.bin', [600_000], 65_536, 52);
      const work = await tempDir('http-tracker-interop');
      cleanups.push(work.remove);
      const seedDir = join(work.path, 'seed');
      await mkdir(seedDir, { recursive: true });
      await writeFile(join(seedDir, 'via-http-tracker.bin'), fixture.data);
      await writeFile(join(work.path, 'a.torrent'), fixture.torrentFile(announce));
      const aria2Port = await freePort();
      track(
        startProcess(
          'aria2c',
          [
            ...ARIA2_LOOPBACK,
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
        'aria2 to announce to the HTTP tracker',
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
          await readFile(join(leechDir, 'via-http-tracker.bin')),
          Buffer.from(fixture.data),
        ),
      ).toBe(0);
      // Both clients announced `started` to us (BEP 3 over HTTP), none was refused; libtorrent
      // found aria2 in our answer (it had no other source: no DHT, no LSD, no PEX peer).
      expect(log.filter((e) => e.kind === 'failure')).toEqual([]);
      const started = new Set(log.filter((e) => e.event === 'started').map((e) => e.port));
      expect(started.has(aria2Port)).toBe(true);
      expect(started.size).toBeGreaterThanOrEqual(2);
    });
  },
);
