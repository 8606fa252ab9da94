/**
 * netsim swarm scenarios (virtual time, deterministic from the seed; a failure prints it):
 * 1 seeder + 20 leechers over lossy links with peers leaving mid-transfer; a peer serving corrupt
 * blocks is banned; a killed and restarted leecher re-fetches nothing it had verified.
 */
import {
  type FaultSchedule,
  replayHint,
  type ScheduledFault,
  type SimHost,
  Simulation,
  seedFromEnv,
} from '@peerkit/netsim';
import { describe, expect, it } from 'vitest';
import { Bitfield } from '../src/bitfield';
import type { PeerError } from '../src/session/peer-error';
import { type MemoryFileSystem, memoryFileSystem } from '../src/storage/file-system';
import { encodeResume } from '../src/storage/resume';
import { Torrent } from '../src/torrent';
import type { TorrentOptions } from '../src/torrent-options';
import { type Fixture, makeTorrent, plant } from './fixtures';

const PORT = 6881;

async function withSeed(name: string, seed: number, body: (sim: Simulation) => Promise<void>) {
  const sim = new Simulation({ seed, link: { latency: 20, jitter: 10 } });
  try {
    await sim.run(() => body(sim), { maxTimeMs: 30 * 60_000 });
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
) {
  return Torrent.open({
    network: host.network,
    directory: '/data',
    info: fixture.info,
    fs,
    listen: { host: host.address, port: PORT },
    resumeIntervalMs: 500,
    limits: { requestTimeoutMs: 5000 },
    ...extra,
  });
}

function verified(fs: MemoryFileSystem, fixture: Fixture): boolean {
  for (const [path, bytes] of fixture.files) {
    const got = fs.snapshot(`/data/${path}`);
    if (got === undefined || !Buffer.from(got).equals(Buffer.from(bytes))) return false;
  }
  return true;
}

async function seeder(host: SimHost, fixture: Fixture): Promise<Torrent> {
  const fs = memoryFileSystem();
  plant(fs, '/data', fixture);
  const t = await open(host, fs, fixture, { recheck: true });
  expect(t.done).toBe(true);
  return t;
}

/** Random 100-600 ms outages of random links, about 5 per second, for `durationMs`. */
function lossBursts(sim: Simulation, hosts: readonly SimHost[], durationMs: number): FaultSchedule {
  const out: ScheduledFault[] = [];
  for (let at = 0; at < durationMs; at += 200) {
    const a = hosts[sim.random.int(hosts.length)]!.address;
    const b = hosts[sim.random.int(hosts.length)]!.address;
    if (a === b) continue;
    out.push({ atMs: at, fault: { kind: 'link', from: a, to: b, options: { down: true } } });
    out.push({
      atMs: at + 100 + sim.random.int(500),
      fault: { kind: 'clear-link', from: a, to: b },
    });
  }
  return out;
}

/** Everything the sessions opened is closed by close()/kill(): listeners, streams, timers. */
async function expectNothingOpen(sim: Simulation): Promise<void> {
  await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 10_000));
  expect(sim.openResources()).toEqual({ datagramSockets: 0, listeners: 0, streams: 0, timers: 0 });
}

/** Resolves once `torrent` has at least `count` verified pieces. */
function untilPieces(torrent: Torrent, count: number): Promise<void> {
  return new Promise((resolve) => {
    if (torrent.stats().verifiedPieces >= count) return resolve();
    const off = torrent.on('piece', () => {
      if (torrent.stats().verifiedPieces >= count) {
        off();
        resolve();
      }
    });
  });
}

describe('netsim swarm', () => {
  it('1 seeder and 20 leechers over lossy links, peers leaving mid-transfer, all complete verified', async () => {
    const seed = seedFromEnv(20_251_124);
    await withSeed('swarm-20', seed, async (sim) => {
      sim.setDefaultLink({ latency: 20, jitter: 10, bandwidth: 400_000 });
      const fixture = makeTorrent('swarm.bin', [640_000], 32_768, seed);
      const seedHost = sim.addHost();
      const seedTorrent = await seeder(seedHost, fixture);
      const hosts = Array.from({ length: 20 }, () => sim.addHost());
      // Loss: netsim streams are reliable, so loss shows as TCP does it, as bursts in which a
      // link drops every segment and the sender retransmits (every 200 ms) until it recovers.
      sim.schedule(lossBursts(sim, [seedHost, ...hosts], 10_000));
      const disks = hosts.map(() => memoryFileSystem());
      const torrents: Torrent[] = [];
      for (const [i, host] of hosts.entries()) {
        // Each leecher knows the seeder and a few earlier leechers (PEX spreads the rest).
        const peers = [{ host: seedHost.address, port: PORT }];
        for (let k = 1; k <= 3 && i - k >= 0; k++)
          peers.push({ host: hosts[i - k]!.address, port: PORT });
        torrents.push(await open(host, disks[i]!, fixture, { peers }));
      }
      // Mid-transfer, four leechers leave (crash); they come back later and must finish too.
      const leaving = [3, 8, 13, 18];
      await untilPieces(torrents[3]!, 3);
      for (const i of leaving) expect(torrents[i]!.done).toBe(false);
      for (const i of leaving) {
        await torrents[i]!.kill();
        disks[i]!.crash();
        sim.crash(hosts[i]!);
      }
      await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 3000));
      for (const i of leaving) {
        sim.restart(hosts[i]!);
        torrents[i] = await open(hosts[i]!, disks[i]!, fixture, {
          peers: [{ host: seedHost.address, port: PORT }],
        });
      }
      await Promise.all(torrents.map((t) => t.whenDone()));
      for (const t of torrents) await t.close();
      await seedTorrent.close();
      for (const disk of disks) expect(verified(disk, fixture)).toBe(true);
      await expectNothingOpen(sim);
      if (process.env.SWARM_DEBUG)
        console.log(
          't',
          sim.now,
          'seed up',
          seedTorrent.stats().uploaded,
          torrents.map((t) => t.stats().downloaded),
        );
      expect(seedTorrent.stats().uploaded).toBeLessThan(20 * fixture.data.length);
    });
  });

  it('a peer that serves corrupt blocks is banned and the download completes', async () => {
    const seed = seedFromEnv(77);
    await withSeed('corrupt', seed, async (sim) => {
      const fixture = makeTorrent('corrupt.bin', [320_000], 16_384, seed);
      const honestHost = sim.addHost();
      const honest = await seeder(honestHost, fixture);
      // The liar's disk holds garbage, but its resume data claims every piece.
      const liarHost = sim.addHost();
      const liarFs = memoryFileSystem();
      const garbage = fixture.data.map((b) => b ^ 0x5a);
      liarFs.put('/data/corrupt.bin', garbage);
      const all = Bitfield.full(Math.ceil(fixture.data.length / 16_384));
      // Resume data vouching for the garbage file as it is (its size and modification time).
      const stamp = await liarFs.lstat('/data/corrupt.bin');
      liarFs.put(
        `/data/.peerkit/${Buffer.from(fixture.info.infoHash).toString('hex')}.resume`,
        encodeResume(fixture.info.infoHash, all, { directory: '/data', stamps: [stamp] }),
      );
      const liar = await open(liarHost, liarFs, fixture);
      expect(liar.done).toBe(true);
      // The leecher meets the liar first; the honest seeder is slower.
      const leechHost = sim.addHost();
      sim.setLink(honestHost, leechHost, { latency: 60, bandwidth: 100_000 });
      const fs = memoryFileSystem();
      const bans: string[] = [];
      const leecher = await open(leechHost, fs, fixture, {
        peers: [
          { host: liarHost.address, port: PORT },
          { host: honestHost.address, port: PORT },
        ],
      });
      leecher.on('ban', ({ host }) => bans.push(host));
      await leecher.whenDone();
      if (process.env.SWARM_DEBUG) console.log('corrupt t', sim.now, leecher.stats());
      expect(bans).toEqual([liarHost.address]);
      expect(leecher.stats().hashFailures).toBeGreaterThanOrEqual(3);
      await leecher.close();
      expect(verified(fs, fixture)).toBe(true);
      await liar.close();
      await honest.close();
      await expectNothingOpen(sim);
    });
  });

  it('a ban cuts off the corrupt peer, not an honest seeder sharing its address', async () => {
    const seed = seedFromEnv(78);
    await withSeed('shared-address', seed, async (sim) => {
      const fixture = makeTorrent('shared.bin', [320_000], 16_384, seed);
      // One address (think: a NAT), two peers behind it: an honest seeder and a liar.
      const shared = sim.addHost();
      const honestFs = memoryFileSystem();
      plant(honestFs, '/data', fixture);
      const honest = await open(shared, honestFs, fixture, { recheck: true });
      const liarFs = memoryFileSystem();
      liarFs.put(
        '/data/shared.bin',
        fixture.data.map((b) => b ^ 0x5a),
      );
      const all = Bitfield.full(Math.ceil(fixture.data.length / 16_384));
      // Resume data vouching for the garbage file as it is (its size and modification time).
      const stamp = await liarFs.lstat('/data/shared.bin');
      liarFs.put(
        `/data/.peerkit/${Buffer.from(fixture.info.infoHash).toString('hex')}.resume`,
        encodeResume(fixture.info.infoHash, all, { directory: '/data', stamps: [stamp] }),
      );
      const liar = await open(shared, liarFs, fixture, {
        listen: { host: shared.address, port: PORT + 1 },
      });
      const leechHost = sim.addHost();
      sim.setLink(shared, leechHost, { latency: 20, bandwidth: 200_000 });
      const fs = memoryFileSystem();
      const leecher = await open(leechHost, fs, fixture, {
        peers: [
          { host: shared.address, port: PORT + 1 },
          { host: shared.address, port: PORT },
        ],
      });
      const bans: Array<{ host: string; peerId: string; wholeHost: boolean }> = [];
      leecher.on('ban', (b) => bans.push(b));
      const bannedConnections: string[] = [];
      leecher.on('peer', (e) => {
        if (e.type === 'disconnect' && (e.error as PeerError | undefined)?.code === 'PEER_BANNED')
          bannedConnections.push(e.peerId ?? '');
      });
      await leecher.whenDone();
      const liarId = Buffer.from(liar.peerId).toString('hex');
      expect(bans).toEqual([{ host: shared.address, peerId: liarId, wholeHost: false }]);
      expect(bannedConnections).toEqual([liarId]);
      expect(leecher.stats().hashFailures).toBeGreaterThanOrEqual(3);
      await leecher.close();
      expect(verified(fs, fixture)).toBe(true);
      await liar.close();
      await honest.close();
      await expectNothingOpen(sim);
    });
  });

  it('magnet leechers all get the torrent when 30% of the swarm lies about the metadata (BEP 9)', async () => {
    const seed = seedFromEnv(909);
    await withSeed('metadata-liars', seed, async (sim) => {
      sim.setDefaultLink({ latency: 15, jitter: 5 });
      const fixture = makeTorrent('truth.bin', [300_000], 16_384, seed);
      const addresses: Array<{ host: string; port: number }> = [];
      const torrents: Torrent[] = [];
      // Three liars: each advertises and serves another info dictionary (another size, another
      // hash) under the real info-hash, and claims every piece.
      for (let i = 0; i < 3; i++) {
        const fake = makeTorrent(
          `lie-${'x'.repeat(10 * (i + 1))}.bin`,
          [200_000 + i * 50_000],
          16_384,
          seed + i + 1,
        );
        const host = sim.addHost();
        const fs = memoryFileSystem();
        plant(fs, '/data', fake);
        torrents.push(
          await open(host, fs, fake, {
            info: { ...fake.info, infoHash: fixture.info.infoHash },
            assumeComplete: true,
          }),
        );
        addresses.push({ host: host.address, port: PORT });
      }
      // Two honest seeders.
      for (let i = 0; i < 2; i++) {
        const host = sim.addHost();
        torrents.push(await seeder(host, fixture));
        addresses.push({ host: host.address, port: PORT });
      }
      // Five leechers with only the magnet's info-hash, the liars first in their peer lists.
      const leechers: Array<{ torrent: Torrent; fs: MemoryFileSystem }> = [];
      for (let i = 0; i < 5; i++) {
        const fs = memoryFileSystem();
        const host = sim.addHost();
        const torrent = await Torrent.open({
          network: host.network,
          directory: '/data',
          infoHash: fixture.info.infoHash,
          fs,
          listen: { host: host.address, port: PORT },
          peers: addresses,
          limits: { requestTimeoutMs: 5000 },
        });
        leechers.push({ torrent, fs });
      }
      await Promise.all(leechers.map((l) => l.torrent.whenDone()));
      for (const l of leechers) {
        expect(l.torrent.info?.name).toBe('truth.bin');
        await l.torrent.close();
        expect(verified(l.fs, fixture)).toBe(true);
      }
      for (const t of torrents) await t.close();
      await expectNothingOpen(sim);
    });
  });

  it('a leecher killed and restarted finishes without re-fetching verified pieces', async () => {
    const seed = seedFromEnv(4242);
    await withSeed('restart', seed, async (sim) => {
      sim.setDefaultLink({ latency: 15, bandwidth: 200_000 });
      const fixture = makeTorrent('restart.bin', [1_000_000], 32_768, seed);
      const seedHost = sim.addHost();
      const seedTorrent = await seeder(seedHost, fixture);
      const host = sim.addHost();
      const fs = memoryFileSystem();
      const peers = [{ host: seedHost.address, port: PORT }];
      const first = await open(host, fs, fixture, { peers });
      const total = first.stats().pieceCount;
      await untilPieces(first, total / 2);
      // Let one resume save land, then crash in the middle of the transfer.
      await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 700));
      await first.kill();
      fs.crash();
      sim.crash(host);
      sim.restart(host);
      const second = await open(host, fs, fixture, { peers });
      const resumed = second.stats().resumedPieces;
      expect(resumed).toBeGreaterThan(0);
      expect(resumed).toBeLessThan(total);
      await second.whenDone();
      const stats = second.stats();
      if (process.env.SWARM_DEBUG)
        console.log('restart t', sim.now, resumed, total, stats.downloaded);
      // Only the pieces missing at restart were downloaded again.
      expect(stats.downloaded).toBeLessThanOrEqual((total - resumed) * 32_768);
      await second.close();
      await seedTorrent.close();
      expect(verified(fs, fixture)).toBe(true);
      await expectNothingOpen(sim);
    });
  });

  it('a refused dial is retried after about 1 s (exponential backoff from 1 s)', async () => {
    const seed = seedFromEnv(5);
    await withSeed('redial', seed, async (sim) => {
      sim.setDefaultLink({ latency: 10 });
      const fixture = makeTorrent('redial.bin', [50_000], 16_384, seed);
      const seedHost = sim.addHost();
      // Nothing listens on the seeder's host yet: the first dial is refused.
      const leecher = await open(sim.addHost(), memoryFileSystem(), fixture, {
        peers: [{ host: seedHost.address, port: PORT }],
        // The redial schedule alone: MSE/PE (the default) would add its two round trips.
        encryption: 'plain',
      });
      const start = sim.now;
      let connectedAt: number | undefined;
      leecher.on('peer', (e) => {
        if (e.type === 'connect') connectedAt ??= sim.now;
      });
      await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 300));
      const seedTorrent = await seeder(seedHost, fixture);
      await leecher.whenDone();
      // First retry 1 s after the refusal, on the next 1 s tick (it used to wait 4 s).
      expect(connectedAt).toBeDefined();
      expect(connectedAt! - start).toBeLessThanOrEqual(2_100);
      await leecher.close();
      await seedTorrent.close();
      await expectNothingOpen(sim);
    });
  });

  it('two seeds of the same torrent, each given the other, do not redial each other', async () => {
    const seed = seedFromEnv(13);
    await withSeed('seeds', seed, async (sim) => {
      sim.setDefaultLink({ latency: 10 });
      const fixture = makeTorrent('seeds.bin', [50_000], 16_384, seed);
      const aHost = sim.addHost();
      const bHost = sim.addHost();
      const aFs = memoryFileSystem();
      const bFs = memoryFileSystem();
      plant(aFs, '/data', fixture);
      plant(bFs, '/data', fixture);
      const a = await open(aHost, aFs, fixture, {
        recheck: true,
        peers: [{ host: bHost.address, port: PORT }],
      });
      const b = await open(bHost, bFs, fixture, {
        recheck: true,
        peers: [{ host: aHost.address, port: PORT }],
      });
      let connects = 0;
      for (const t of [a, b])
        t.on('peer', (e) => {
          if (e.type === 'connect') connects++;
        });
      // Two minutes of virtual time: it used to be a new connection every second.
      await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 120_000));
      expect(a.done && b.done).toBe(true);
      expect(connects).toBeLessThanOrEqual(4);
      await a.close();
      await b.close();
      await expectNothingOpen(sim);
    });
  });

  it('a peer the user gave that is down for five minutes is still dialled when it comes back', async () => {
    const seed = seedFromEnv(17);
    await withSeed('user-peer', seed, async (sim) => {
      sim.setDefaultLink({ latency: 10 });
      const fixture = makeTorrent('down.bin', [50_000], 16_384, seed);
      const seedHost = sim.addHost();
      // Nothing listens there for five minutes: every dial fails (it used to give up after ~31 s).
      const leecher = await open(sim.addHost(), memoryFileSystem(), fixture, {
        peers: [{ host: seedHost.address, port: PORT }],
      });
      await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 5 * 60_000));
      const seedTorrent = await seeder(seedHost, fixture);
      await leecher.whenDone();
      await leecher.close();
      await seedTorrent.close();
      await expectNothingOpen(sim);
    });
  });

  for (const privateOn of ['sender', 'receiver'] as const) {
    it(`a private torrent (BEP 27) on the PEX ${privateOn} side: no peer is learnt by PEX`, async () => {
      const seed = seedFromEnv(27);
      await withSeed(`private-${privateOn}`, seed, async (sim) => {
        sim.setDefaultLink({ latency: 10, bandwidth: 50_000 });
        const fixture = makeTorrent('private.bin', [200_000], 16_384, seed);
        const privateInfo = { ...fixture.info, private: true };
        const seedHost = sim.addHost();
        // Receiver case: the seeder is private too, so that it does not dial B on A's PEX
        // (only B's own choice is under test: it must not dial what PEX told it).
        const seedTorrent = await seeder(
          seedHost,
          privateOn === 'receiver' ? { ...fixture, info: privateInfo } : fixture,
        );
        // A knows the seeder and would tell B about it by PEX; B knows only A.
        const a = await open(sim.addHost(), memoryFileSystem(), fixture, {
          peers: [{ host: seedHost.address, port: PORT }],
          ...(privateOn === 'sender' ? { info: privateInfo } : {}),
        });
        const bFs = memoryFileSystem();
        const b = await open(sim.addHost(), bFs, fixture, {
          peers: [{ host: a.listenAddress!.host, port: PORT }],
          ...(privateOn === 'receiver' ? { info: privateInfo } : {}),
        });
        const connected = new Set<string>();
        b.on('peer', (e) => {
          if (e.type === 'connect') connected.add(e.address.host);
        });
        await b.whenDone();
        // Well past PEX's 60 s interval: still only A.
        await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 150_000));
        expect(connected.has(seedHost.address)).toBe(false);
        expect([...connected]).toEqual([a.listenAddress!.host]);
        for (const t of [a, b, seedTorrent]) await t.close();
        expect(verified(bFs, fixture)).toBe(true);
        await expectNothingOpen(sim);
      });
    });
  }

  it('peer exchange (BEP 11) tells a leecher about peers it was not given', async () => {
    const seed = seedFromEnv(11);
    await withSeed('pex', seed, async (sim) => {
      sim.setDefaultLink({ latency: 10, bandwidth: 50_000 });
      const fixture = makeTorrent('pex.bin', [200_000], 16_384, seed);
      const seedHost = sim.addHost();
      const seedTorrent = await seeder(seedHost, fixture);
      const a = await open(sim.addHost(), memoryFileSystem(), fixture, {
        peers: [{ host: seedHost.address, port: PORT }],
      });
      const bHost = sim.addHost();
      const bFs = memoryFileSystem();
      const b = await open(bHost, bFs, fixture, {
        peers: [{ host: a.listenAddress!.host, port: PORT }],
      });
      const connected = new Set<string>();
      b.on('peer', (e) => {
        if (e.type === 'connect') connected.add(e.address.host);
      });
      await b.whenDone();
      expect(connected.has(seedHost.address)).toBe(true);
      for (const t of [a, b, seedTorrent]) await t.close();
      expect(verified(bFs, fixture)).toBe(true);
      await expectNothingOpen(sim);
    });
  });
});
