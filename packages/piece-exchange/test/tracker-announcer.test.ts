/**
 * `TrackerAnnouncer` in netsim: the counters a tracker is told are exactly the torrent's
 * (started, completed once, stopped), and a torrent whose first tier answers `failure reason`,
 * whose second answers garbage and whose third works reports both failures, uses the third and
 * its swarm completes. Seeds are printed and replayable (`PEERKIT_SEED`).
 */
import { replayHint, type SimHost, Simulation, seedFromEnv } from '@peerkit/netsim';
import type { Network } from '@peerkit/transport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import {
  parseUdpTrackerUrl,
  type TrackerAnnounceEvent,
  TrackerAnnouncer,
  type TrackerErrorEvent,
} from '../src/tracker/announcer';
import { type HttpTrackerRequestLog, HttpTrackerServer } from '../src/tracker/http-server';
import { TrackerSwarms } from '../src/tracker/swarms';
import { UdpTrackerServer } from '../src/tracker/udp-server';
import { type Fixture, makeTorrent, plant } from './fixtures';

async function withSeed(name: string, seed: number, body: (sim: Simulation) => Promise<void>) {
  const sim = new Simulation({ seed, link: { latency: 20, jitter: 10 } });
  try {
    await sim.run(() => body(sim), { maxTimeMs: 6 * 3600_000 });
  } catch (error) {
    console.error(`${name} failed; replay with ${replayHint(seed)}`);
    throw error;
  }
}

/** A torrent on `host` announcing to `tiers`; peers found are dialled; `completed` on done. */
async function peer(host: SimHost, fixture: Fixture, seeding: boolean, tiers: string[][]) {
  const fs = memoryFileSystem();
  if (seeding) plant(fs, '/data', fixture);
  const torrent = await Torrent.open({
    network: host.network,
    directory: '/data',
    info: fixture.info,
    fs,
    resume: false,
    recheck: seeding,
    listen: { host: host.address, port: 6881 },
  });
  const announcer = new TrackerAnnouncer({
    network: host.network,
    tiers,
    infoHash: fixture.info.infoHash,
    peerId: torrent.peerId,
    port: 6881,
    udpHost: host.address,
    stats: () => {
      const s = torrent.stats();
      return { uploaded: s.uploaded, downloaded: s.downloaded, left: s.left ?? 0 };
    },
  });
  const answers: TrackerAnnounceEvent[] = [];
  const errors: TrackerErrorEvent[] = [];
  announcer.on('announce', (a) => {
    answers.push(a);
    for (const p of a.peers) torrent.addPeer(p);
  });
  announcer.on('error', (e) => errors.push(e));
  if (!torrent.done) torrent.once('done', () => announcer.complete());
  announcer.start();
  return { torrent, announcer, answers, errors };
}

afterEach(() => vi.restoreAllMocks());

describe('TrackerAnnouncer (netsim)', () => {
  it('tells the tracker exact counters: started with everything left, completed once, stopped with the totals', async () => {
    const seed = seedFromEnv(20_260_012);
    await withSeed('tracker-counters', seed, async (sim) => {
      const fixture = makeTorrent('counters.bin', [300_000], 16_384, seed);
      const trackerHost = sim.addHost();
      const log: HttpTrackerRequestLog[] = [];
      const server = await HttpTrackerServer.open(
        trackerHost.network,
        { host: trackerHost.address, port: 80, interval: 60 },
        (entry) => log.push(entry),
      );
      const tiers = [[server.announceUrl]];
      const seeder = await peer(sim.addHost(), fixture, true, tiers);
      const leecher = await peer(sim.addHost(), fixture, false, tiers);
      await leecher.torrent.whenDone();
      // Regular announces happen meanwhile (interval 60 s).
      await new Promise<void>((r) => sim.clock.setTimeout(r, 150_000));
      const atClose = leecher.torrent.stats();
      await leecher.announcer.close();
      const seederStats = seeder.torrent.stats();
      await seeder.announcer.close();
      const from = (address: string) => log.filter((e) => e.from.host === address);
      const leecherLog = from(leecher.torrent.listenAddress!.host);
      const events = leecherLog.map((e) => e.event);
      expect(events.filter((e) => e === 'started')).toHaveLength(1);
      expect(events.filter((e) => e === 'completed')).toHaveLength(1);
      expect(events.filter((e) => e === 'stopped')).toHaveLength(1);
      expect(events[0]).toBe('started');
      expect(events.at(-1)).toBe('stopped');
      expect(events.filter((e) => e === 'none').length).toBeGreaterThanOrEqual(2);
      const started = leecherLog[0]!;
      expect([started.left, started.downloaded, started.uploaded]).toEqual([
        fixture.data.length,
        0,
        0,
      ]);
      const completed = leecherLog.find((e) => e.event === 'completed')!;
      expect(completed.left).toBe(0);
      expect(completed.downloaded).toBeGreaterThanOrEqual(fixture.data.length);
      const stopped = leecherLog.at(-1)!;
      expect([stopped.left, stopped.downloaded, stopped.uploaded]).toEqual([
        0,
        atClose.downloaded,
        atClose.uploaded,
      ]);
      // The seeder was complete from the start: started with left 0, never completed.
      const seederLog = from(seeder.torrent.listenAddress!.host);
      expect(seederLog.map((e) => e.event).filter((e) => e !== 'none')).toEqual([
        'started',
        'stopped',
      ]);
      expect(seederLog[0]!.left).toBe(0);
      expect(seederLog.at(-1)!.uploaded).toBe(seederStats.uploaded);
      expect(seederStats.uploaded).toBeGreaterThanOrEqual(fixture.data.length);
      await leecher.torrent.close();
      await seeder.torrent.close();
      await server.close();
    });
  });

  it('tier 1 answers failure reason, tier 2 garbage, tier 3 works: both failures reported, the swarm completes', async () => {
    const seed = seedFromEnv(20_260_020);
    await withSeed('tracker-tiers', seed, async (sim) => {
      const fixture = makeTorrent('tiers.bin', [200_000], 16_384, seed);
      // Tier 1: a real HTTP tracker that is full (`failure reason: tracker full`).
      const fullHost = sim.addHost();
      const full = await HttpTrackerServer.open(fullHost.network, {
        host: fullHost.address,
        port: 80,
        maxTorrents: 0,
      });
      // Tier 2: something on port 80 that answers HTTP 200 with bytes that are not bencode.
      const garbageHost = sim.addHost();
      const garbage = await garbageHost.network.listen(
        { host: garbageHost.address, port: 80 },
        (stream) => {
          void (async () => {
            for await (const chunk of stream) if (Buffer.from(chunk).includes('\r\n\r\n')) break;
          })().catch(() => undefined);
          void stream
            .write(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n<html>oop'))
            .then(() => stream.end())
            .catch(() => undefined);
        },
      );
      // Tier 3: the working one, over UDP (BEP 15), sharing nothing with the others.
      const goodHost = sim.addHost();
      const good = await UdpTrackerServer.open(goodHost.network, {
        host: goodHost.address,
        port: 6969,
        interval: 120,
      });
      const tiers = [
        [full.announceUrl],
        [`http://${garbageHost.address}:80/announce`],
        [`udp://${goodHost.address}:6969/announce`],
      ];
      const peers = [await peer(sim.addHost(), fixture, true, tiers)];
      for (let i = 0; i < 3; i++) peers.push(await peer(sim.addHost(), fixture, false, tiers));
      for (const p of peers.slice(1)) await p.torrent.whenDone();
      for (const p of peers) {
        const first = p.errors.slice(0, 2);
        expect(first.map((e) => [e.url, e.code, e.event])).toEqual([
          [tiers[0]![0], 'TRACKER_FAILURE', 'started'],
          [tiers[1]![0], 'INVALID_RESPONSE', 'started'],
        ]);
        expect(first[0]!.message).toBe('tracker full');
        expect(p.answers[0]).toMatchObject({ url: tiers[2]![0], event: 'started' });
        expect(p.announcer.tiers).toEqual(tiers);
      }
      console.log(
        `tracker tiers swarm (seed ${seed}): ${peers.reduce((n, p) => n + p.errors.length, 0)} tracker failures reported`,
      );
      for (const p of peers) {
        await p.announcer.close();
        await p.torrent.close();
      }
      await full.close();
      await garbage.close();
      await good.close();
    });
  });

  it('a throwing handler neither stops the loop nor the other handlers', async () => {
    await withSeed('tracker-handler', seedFromEnv(9), async (sim) => {
      const reported = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      const trackerHost = sim.addHost();
      const clientHost = sim.addHost();
      const swarms = new TrackerSwarms(trackerHost.network.random, { interval: 60 });
      const server = await HttpTrackerServer.open(trackerHost.network, {
        host: trackerHost.address,
        port: 80,
        swarms,
      });
      const announcer = new TrackerAnnouncer({
        network: clientHost.network as Network,
        tiers: [[server.announceUrl]],
        infoHash: new Uint8Array(20).fill(7),
        peerId: new Uint8Array(20).fill(8),
        port: 1000,
        stats: () => ({ uploaded: 0, downloaded: 0, left: 5 }),
      });
      let seen = 0;
      announcer.on('announce', () => {
        throw new Error('boom');
      });
      announcer.on('announce', () => seen++);
      announcer.start();
      await new Promise<void>((r) => sim.clock.setTimeout(r, 200_000));
      expect(seen).toBeGreaterThanOrEqual(3); // started, then every 60 s
      expect(reported).toHaveBeenCalled();
      await announcer.close();
      expect(swarms.peers(new Uint8Array(20).fill(7))).toEqual([]); // stopped removed us
      await server.close();
    });
  });

  it('parses udp:// tracker URLs (IPv6 in brackets, any path)', () => {
    expect(parseUdpTrackerUrl('udp://tracker.example:6969/announce')).toEqual({
      host: 'tracker.example',
      port: 6969,
    });
    expect(parseUdpTrackerUrl('udp://[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseUdpTrackerUrl('udp://x:0/announce')).toBeUndefined();
    expect(parseUdpTrackerUrl('http://x:80/announce')).toBeUndefined();
  });
});
