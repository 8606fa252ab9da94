/**
 * MSE/PE on streams, in netsim (virtual time, replayable seed): the encryption policies between
 * torrents (`prefer` falls back to plain against a plain-only peer, `require` never talks
 * plain), and the shell's guarantees: a silent, truncated or garbage handshake ends with a
 * typed `MseError` (deadline or sync limit), never a hang, and nothing is left open.
 */
import { replayHint, type SimHost, Simulation, seedFromEnv } from '@peerkit/netsim';
import type { Stream } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { mseAccept, mseConnect } from '../src/mse/connect';
import { MseError } from '../src/mse/errors';
import { mseKeyLookup } from '../src/mse/handshake';
import { type MemoryFileSystem, memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import type { TorrentOptions } from '../src/torrent-options';
import { type Fixture, makeTorrent, plant } from './fixtures';

const PORT = 6881;

async function withSeed(name: string, seed: number, body: (sim: Simulation) => Promise<void>) {
  const sim = new Simulation({ seed, link: { latency: 15, jitter: 5 } });
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
  extra: Partial<TorrentOptions>,
) {
  return Torrent.open({
    network: host.network,
    directory: '/data',
    info: fixture.info,
    fs,
    listen: { host: host.address, port: PORT },
    resume: false,
    ...extra,
  });
}

async function expectNothingOpen(sim: Simulation): Promise<void> {
  await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 15_000));
  expect(sim.openResources()).toEqual({ datagramSockets: 0, listeners: 0, streams: 0, timers: 0 });
}

describe('MSE/PE policies between torrents (netsim)', () => {
  for (const [seeding, leeching, connects] of [
    ['prefer', 'prefer', true],
    ['require', 'prefer', true],
    ['prefer', 'require', true],
    ['plain', 'prefer', true], // prefer falls back to plain
    ['prefer', 'plain', true], // prefer accepts plain
    ['plain', 'require', false],
    ['require', 'plain', false],
  ] as const) {
    it(`seeder ${seeding}, leecher ${leeching}: ${connects ? 'completes' : 'never connects'}`, async () => {
      const seed = seedFromEnv(41);
      await withSeed(`mse-${seeding}-${leeching}`, seed, async (sim) => {
        const fixture = makeTorrent('mse.bin', [100_000], 16_384, seed);
        const seedHost = sim.addHost();
        const fs = memoryFileSystem();
        plant(fs, '/data', fixture);
        const seeder = await open(seedHost, fs, fixture, { recheck: true, encryption: seeding });
        const leecher = await open(sim.addHost(), memoryFileSystem(), fixture, {
          peers: [{ host: seedHost.address, port: PORT }],
          encryption: leeching,
        });
        let connected = false;
        leecher.on('peer', (e) => {
          if (e.type === 'connect') connected = true;
        });
        if (connects) {
          await leecher.whenDone();
        } else {
          await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 60_000));
          expect(leecher.done).toBe(false);
        }
        expect(connected).toBe(connects);
        await leecher.close();
        await seeder.close();
        await expectNothingOpen(sim);
      });
    });
  }
});

describe('a failed MSE/PE opening is reported as `rejected` (netsim)', () => {
  it('garbage past the sync window: rejected, reason handshake, SYNC_NOT_FOUND', async () => {
    await withSeed('mse-rejected', seedFromEnv(46), async (sim) => {
      const fixture = makeTorrent('mse.bin', [20_000], 16_384, 46);
      const seedHost = sim.addHost();
      const fs = memoryFileSystem();
      plant(fs, '/data', fixture);
      const seeder = await open(seedHost, fs, fixture, { recheck: true });
      const events: { type: string; reason?: string; code?: string }[] = [];
      seeder.on('peer', (e) =>
        events.push({
          type: e.type,
          ...(e.type === 'rejected' ? { reason: e.reason } : {}),
          code: (e.error as { code?: string } | undefined)?.code,
        }),
      );
      const stream = await sim.addHost().network.dial({ host: seedHost.address, port: PORT });
      await stream.write(new Uint8Array(700).fill(0xab));
      while (events.length === 0) await new Promise<void>((r) => sim.clock.setTimeout(r, 10));
      expect(events).toEqual([{ type: 'rejected', reason: 'handshake', code: 'SYNC_NOT_FOUND' }]);
      stream.destroy();
      await seeder.close();
      await expectNothingOpen(sim);
    });
  });
});

describe('MSE/PE shell: failures are typed and bounded (netsim)', () => {
  const infoHash = new Uint8Array(20).fill(7);

  /** B accepts one stream with mseAccept; A's side is handed to `act`. Returns B's error. */
  async function acceptWith(
    sim: Simulation,
    act: (stream: Stream) => Promise<void>,
  ): Promise<unknown> {
    const a = sim.addHost();
    const b = sim.addHost();
    let outcome: Promise<unknown> | undefined;
    const listener = await b.network.listen({ host: b.address, port: PORT }, (stream) => {
      outcome = mseAccept(stream, mseKeyLookup([infoHash]), {
        policy: 'require',
        random: b.network.random,
        clock: b.network.clock,
        timeoutMs: 5_000,
      }).then(
        (s) => {
          s.destroy();
          return undefined;
        },
        (error: unknown) => error,
      );
    });
    const stream = await a.network.dial({ host: b.address, port: PORT });
    await act(stream);
    while (outcome === undefined) await new Promise<void>((r) => sim.clock.setTimeout(r, 10));
    const error = await outcome;
    stream.destroy();
    await listener.close();
    return error;
  }

  it('a silent peer is ended by the deadline with HANDSHAKE_INCOMPLETE', async () => {
    await withSeed('mse-silent', seedFromEnv(42), async (sim) => {
      const error = await acceptWith(sim, (s) => s.write(new Uint8Array(50).fill(1)));
      expect(error).toBeInstanceOf(MseError);
      expect((error as MseError).code).toBe('HANDSHAKE_INCOMPLETE');
      await expectNothingOpen(sim);
    });
  });

  it('garbage past the sync window fails with SYNC_NOT_FOUND at once', async () => {
    await withSeed('mse-garbage', seedFromEnv(43), async (sim) => {
      const error = await acceptWith(sim, (s) => s.write(new Uint8Array(700).fill(0xab)));
      expect((error as MseError).code).toBe('SYNC_NOT_FOUND');
      await expectNothingOpen(sim);
    });
  });

  it('a plain BitTorrent handshake under require is refused with PLAINTEXT_REFUSED', async () => {
    await withSeed('mse-plain', seedFromEnv(44), async (sim) => {
      const error = await acceptWith(sim, (s) =>
        s.write(Buffer.from('\x13BitTorrent protocol\0\0\0\0\0\0\0\0', 'latin1')),
      );
      expect((error as MseError).code).toBe('PLAINTEXT_REFUSED');
      await expectNothingOpen(sim);
    });
  });

  it('a peer that closes mid-handshake fails the initiator with HANDSHAKE_INCOMPLETE', async () => {
    await withSeed('mse-closed', seedFromEnv(45), async (sim) => {
      const a = sim.addHost();
      const b = sim.addHost();
      const listener = await b.network.listen({ host: b.address, port: PORT }, (stream) => {
        void (async () => {
          for await (const _ of stream) {
            await stream.end();
            return;
          }
        })();
      });
      const stream = await a.network.dial({ host: b.address, port: PORT });
      const error = await mseConnect(stream, infoHash, {
        policy: 'prefer',
        random: a.network.random,
        clock: a.network.clock,
      }).catch((e: unknown) => e);
      expect((error as MseError).code).toBe('HANDSHAKE_INCOMPLETE');
      await listener.close();
      await expectNothingOpen(sim);
    });
  });
});
