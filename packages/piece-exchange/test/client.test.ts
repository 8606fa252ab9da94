/**
 * TorrentClient in netsim (virtual time, deterministic from the seed; a failure prints it):
 * several torrents on one port (plain and MSE handshakes routed by info-hash), an unknown
 * info-hash refused, and the global upload and download rate limits holding within 10% over
 * 10 s of simulated time with several torrents, never exceeded over any window.
 */
import { replayHint, type SimHost, Simulation, seedFromEnv } from '@peerkit/netsim';
import { describe, expect, it } from 'vitest';
import { TorrentClient } from '../src/client';
import { memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import { type Fixture, makeTorrent, plant } from './fixtures';

async function withSeed(name: string, seed: number, body: (sim: Simulation) => Promise<void>) {
  const sim = new Simulation({ seed, link: { latency: 10, jitter: 5 } });
  try {
    await sim.run(() => body(sim), { maxTimeMs: 10 * 60_000 });
  } catch (error) {
    console.error(`${name} failed; replay with ${replayHint(seed)}`);
    throw error;
  }
}

function sleep(host: SimHost, ms: number): Promise<void> {
  return new Promise((resolve) => host.network.clock.setTimeout(resolve, ms));
}

/** A standalone torrent on `host`: a seeder (with the data) or a leecher of `fixture`. */
async function standalone(
  host: SimHost,
  fixture: Fixture,
  role: 'seed' | 'leech',
  extra: Parameters<typeof Torrent.open>[0] extends infer O ? Partial<O> : never = {},
) {
  const fs = memoryFileSystem();
  if (role === 'seed') plant(fs, '/data', fixture);
  return Torrent.open({
    network: host.network,
    directory: '/data',
    info: fixture.info,
    fs,
    ...(role === 'seed'
      ? { assumeComplete: true, listen: { host: host.address, port: 6881 } }
      : {}),
    ...extra,
  });
}

/** A client on `host` seeding (or leeching) every fixture, from memory. */
async function clientWith(
  host: SimHost,
  fixtures: readonly Fixture[],
  role: 'seed' | 'leech',
  options: Partial<Parameters<typeof TorrentClient.open>[0]> = {},
) {
  const client = await TorrentClient.open({
    network: host.network,
    listen: { host: host.address, port: 6881 },
    ...options,
  });
  const fs = memoryFileSystem();
  for (const f of fixtures) if (role === 'seed') plant(fs, '/data', f);
  for (const f of fixtures) {
    await client.add({
      directory: '/data',
      info: f.info,
      fs,
      ...(role === 'seed' ? { assumeComplete: true } : {}),
    });
  }
  return client;
}

function same(fixture: Fixture, torrent: Torrent): boolean {
  return torrent.done && torrent.info?.infoHash.toString() === fixture.info.infoHash.toString();
}

describe('TorrentClient (netsim)', () => {
  it('serves several torrents on one port: plain and MSE handshakes routed by info-hash', async () => {
    const seed = seedFromEnv(2022);
    await withSeed('one port', seed, async (sim) => {
      const fixtures = [0, 1, 2].map((i) => makeTorrent(`t${i}`, [300_000 + i * 1000], 32_768, i));
      const stranger = makeTorrent('stranger', [50_000], 16_384, 9);
      const host = sim.addHost();
      const client = await clientWith(host, fixtures, 'seed');
      const rejected: string[] = [];
      client.on('rejected', (e) => rejected.push(e.reason));
      const port = client.listenAddress!.port;
      const peers = [{ host: host.address, port }];
      const encryptions = ['plain', 'prefer', 'require'] as const;
      const leechers = await Promise.all(
        fixtures.map((f, i) =>
          standalone(sim.addHost(), f, 'leech', { peers, encryption: encryptions[i] }),
        ),
      );
      await Promise.all(leechers.map((t) => t.whenDone()));
      leechers.forEach((t, i) => {
        expect(same(fixtures[i]!, t)).toBe(true);
      });
      // Every torrent of the client reports the one port.
      for (const t of client.torrents) expect(t.listenAddress?.port).toBe(port);
      // A torrent the client does not run: refused, in plain and under MSE.
      for (const encryption of ['plain', 'require'] as const) {
        const lost = await standalone(sim.addHost(), stranger, 'leech', { peers, encryption });
        await sleep(host, 3000);
        expect(lost.stats().peers.length).toBe(0);
        await lost.close();
      }
      // Plain: routed to no torrent; MSE: no torrent's SKEY matches (redials count again).
      expect(rejected).toContain('unknown-torrent');
      expect(rejected).toContain('handshake');
      expect(rejected.every((r) => r === 'unknown-torrent' || r === 'handshake')).toBe(true);
      await Promise.all(leechers.map((t) => t.close()));
      await client.close();
    });
  });

  /**
   * Bytes the leechers received, sampled every 100 ms from 2 s on for 10 s: the total over the
   * 10 s is the limit x 10 s within 10%, and no window of 1 s or more received more than the
   * limit allows (rate x span + the burst + one 16 KiB write or read in flight per stream).
   */
  async function checkRate(
    host: SimHost,
    rate: number,
    burst: number,
    streams: number,
    bytes: () => number,
  ) {
    await sleep(host, 2000);
    const samples: number[] = [];
    for (let i = 0; i <= 100; i++) {
      samples.push(bytes());
      if (i < 100) await sleep(host, 100);
    }
    const total = samples[100]! - samples[0]!;
    expect(total).toBeGreaterThanOrEqual(0.9 * rate * 10);
    expect(total).toBeLessThanOrEqual(1.1 * rate * 10);
    for (let i = 0; i < samples.length; i++)
      for (let j = i + 10; j < samples.length; j++)
        expect(samples[j]! - samples[i]!).toBeLessThanOrEqual(
          (rate * (j - i)) / 10 + burst + streams * 16_384 + 65_536,
        );
  }

  it('the upload limit holds across torrents: within 10% over 10 s, never exceeded', async () => {
    const seed = seedFromEnv(2023);
    await withSeed('upload rate', seed, async (sim) => {
      const rate = 400_000;
      const fixtures = [0, 1, 2].map((i) => makeTorrent(`u${i}`, [3_000_000], 65_536, 10 + i));
      const host = sim.addHost();
      const client = await clientWith(host, fixtures, 'seed', { uploadRate: rate });
      const peers = [{ host: host.address, port: client.listenAddress!.port }];
      // Two leechers per torrent: six streams share the one budget.
      const leechers = await Promise.all(
        [...fixtures, ...fixtures].map((f) => standalone(sim.addHost(), f, 'leech', { peers })),
      );
      const received = () => leechers.reduce((a, t) => a + t.stats().downloaded, 0);
      await checkRate(host, rate, rate / 4, 6, received);
      expect(leechers.some((t) => t.done)).toBe(false);
      await Promise.all(leechers.map((t) => t.close()));
      await client.close();
    });
  });

  it('the download limit holds across torrents: within 10% over 10 s, never exceeded', async () => {
    const seed = seedFromEnv(2024);
    await withSeed('download rate', seed, async (sim) => {
      const rate = 300_000;
      const fixtures = [0, 1, 2].map((i) => makeTorrent(`d${i}`, [3_000_000], 65_536, 20 + i));
      const seeders = await Promise.all(fixtures.map((f) => standalone(sim.addHost(), f, 'seed')));
      const host = sim.addHost();
      const client = await clientWith(host, fixtures, 'leech', { downloadRate: rate });
      client.torrents.forEach((t, i) => {
        t.addPeer(seeders[i]!.listenAddress!);
      });
      const received = () => client.torrents.reduce((a, t) => a + t.stats().downloaded, 0);
      await checkRate(host, rate, rate / 4, 3, received);
      // The seeders sent no more than the leecher read plus what each connection holds in
      // flight (netsim's 256 KiB receive window, the sender's 64 KiB queue, one 256 KiB upload
      // group): the limit throttled the sockets, not only what the torrents saw.
      const sent = seeders.reduce((a, t) => a + t.stats().uploaded, 0);
      expect(sent).toBeLessThanOrEqual(received() + 3 * 700_000);
      expect(client.torrents.some((t) => t.done)).toBe(false);
      await Promise.all(seeders.map((t) => t.close()));
      await client.close();
    });
  });

  it('shares upload slots and connections across torrents; every leecher still finishes', async () => {
    const seed = seedFromEnv(2025);
    await withSeed('slots', seed, async (sim) => {
      const fixtures = [0, 1, 2].map((i) => makeTorrent(`s${i}`, [400_000], 32_768, 30 + i));
      const host = sim.addHost();
      const client = await clientWith(host, fixtures, 'seed', {
        uploadSlots: 2,
        maxConnections: 5,
      });
      const peers = [{ host: host.address, port: client.listenAddress!.port }];
      // Two leechers per torrent: six want a connection, five may have one.
      const leechers = await Promise.all(
        [...fixtures, ...fixtures].map((f) => standalone(sim.addHost(), f, 'leech', { peers })),
      );
      let most = { connections: 0, unchoked: 0 };
      let done = false;
      void Promise.all(leechers.map((t) => t.whenDone())).then(() => {
        done = true;
      });
      while (!done) {
        const { connections, unchoked } = client.stats();
        most = {
          connections: Math.max(most.connections, connections),
          unchoked: Math.max(most.unchoked, unchoked),
        };
        await sleep(host, 50);
      }
      expect(most.connections).toBeLessThanOrEqual(5);
      expect(most.unchoked).toBeLessThanOrEqual(2);
      expect(most.unchoked).toBe(2);
      await Promise.all(leechers.map((t) => t.close()));
      await client.close();
    });
  });

  it('runs every torrent on its one tick: no timer per torrent or per idle peer', async () => {
    const seed = seedFromEnv(2026);
    await withSeed('timers', seed, async (sim) => {
      const host = sim.addHost();
      let intervals = 0;
      const clock = host.network.clock;
      const counted = {
        ...host.network,
        clock: {
          now: () => clock.now(),
          setTimeout: (f: () => void, ms: number) => clock.setTimeout(f, ms),
          setInterval: (f: () => void, ms: number) => {
            intervals++;
            return clock.setInterval(f, ms);
          },
        },
        listen: host.network.listen.bind(host.network),
        dial: host.network.dial.bind(host.network),
        bindDatagram: host.network.bindDatagram.bind(host.network),
      };
      const fixtures = [0, 1, 2, 3, 4].map((i) => makeTorrent(`i${i}`, [20_000], 16_384, 40 + i));
      const client = await TorrentClient.open({ network: counted, listen: { host: host.address } });
      const fs = memoryFileSystem();
      for (const f of fixtures) plant(fs, '/data', f);
      for (const f of fixtures)
        await client.add({ directory: '/data', info: f.info, fs, assumeComplete: true });
      expect(intervals).toBe(1);
      // Idle peers (connected, nothing to fetch): still the one interval.
      const peers = [{ host: host.address, port: client.listenAddress!.port }];
      const leechers = await Promise.all(
        fixtures.map((f) => standalone(sim.addHost(), f, 'leech', { peers })),
      );
      await Promise.all(leechers.map((t) => t.whenDone()));
      await sleep(host, 5000);
      expect(intervals).toBe(1);
      await Promise.all(leechers.map((t) => t.close()));
      await client.close();
    });
  });

  it('refuses handshakes beyond maxHandshakes; a throwing handler stops neither it nor others', async () => {
    const seed = seedFromEnv(2027);
    await withSeed('handshakes', seed, async (sim) => {
      const fixture = makeTorrent('h', [100_000], 16_384, 50);
      const host = sim.addHost();
      const client = await clientWith(host, [fixture], 'seed', { maxHandshakes: 3 });
      const errors: string[] = [];
      client.setHandlerErrorReporter((error) => errors.push(String(error)));
      client.on('rejected', () => {
        throw new Error('handler failed');
      });
      const reasons: string[] = [];
      client.on('rejected', (e) => reasons.push(e.reason));
      // Eight silent connections (they never send a handshake): three wait in the handshake.
      const crowd = sim.addHost();
      const silent = await Promise.all(
        Array.from({ length: 8 }, () => crowd.network.dial(client.listenAddress!)),
      );
      await sleep(host, 500);
      expect(reasons.filter((r) => r === 'handshake-limit')).toHaveLength(5);
      expect(errors).toHaveLength(5);
      // An honest peer gets in once the silent ones time out (10 s handshake deadline).
      await sleep(host, 11_000);
      const peers = [{ host: host.address, port: client.listenAddress!.port }];
      const leecher = await standalone(sim.addHost(), fixture, 'leech', { peers });
      await leecher.whenDone();
      expect(same(fixture, leecher)).toBe(true);
      for (const s of silent) s.destroy();
      await leecher.close();
      await client.close();
    });
  });
});
