/**
 * BEP 15 UDP tracker: total decoding of every packet (fuzzed), round-trips, and in netsim the
 * client against the in-memory server: a swarm bootstrapped only by the tracker completes under
 * 10% datagram loss (retransmissions exercised), error answers are typed, garbage is ignored
 * until the retransmission schedule gives up.
 */
import { replayHint, type SimHost, Simulation, seedFromEnv } from '@peerkit/netsim';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import { TrackerError } from '../src/tracker/errors';
import { MAX_RETRANSMITS, retransmitTimeout, UdpTrackerClient } from '../src/tracker/udp-client';
import {
  decodeUdpRequest,
  decodeUdpResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  encodeUdpResponse,
  type UdpResponse,
} from '../src/tracker/udp-messages';
import { UdpTrackerServer } from '../src/tracker/udp-server';
import { makeTorrent, plant } from './fixtures';

const arbHash = fc.uint8Array({ minLength: 20, maxLength: 20 });
const arbU32 = fc.nat({ max: 2 ** 32 - 1 });
const arbIpv4 = fc
  .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
  .map((a) => a.join('.'));
const arbPeer = fc.record({ host: arbIpv4, port: fc.nat(65535) });

describe('BEP 15 packets', () => {
  it('every byte string decodes to a packet or TrackerError INVALID_RESPONSE', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, ipv6) => {
        for (const decode of [
          () => decodeUdpResponse(bytes, ipv6),
          () => decodeUdpRequest(bytes),
        ]) {
          try {
            decode();
          } catch (error) {
            expect(error).toBeInstanceOf(TrackerError);
            expect((error as TrackerError).code).toBe('INVALID_RESPONSE');
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('responses round-trip', () => {
    const arbResponse: fc.Arbitrary<UdpResponse> = fc.oneof(
      fc.record({
        action: fc.constant('connect' as const),
        transactionId: arbU32,
        connectionId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      }),
      fc.record({
        action: fc.constant('announce' as const),
        transactionId: arbU32,
        interval: arbU32,
        leechers: arbU32,
        seeders: arbU32,
        peers: fc.array(arbPeer, { maxLength: 50 }),
      }),
      fc.record({
        action: fc.constant('scrape' as const),
        transactionId: arbU32,
        files: fc.array(fc.record({ seeders: arbU32, completed: arbU32, leechers: arbU32 }), {
          maxLength: 74,
        }),
      }),
      fc.record({
        action: fc.constant('error' as const),
        transactionId: arbU32,
        message: fc.string(),
      }),
    );
    fc.assert(
      fc.property(arbResponse, (r) => {
        expect(decodeUdpResponse(encodeUdpResponse(r))).toEqual(r);
      }),
    );
  });

  it('requests round-trip; BEP 15 sizes (16-byte connect, 98-byte announce, 16 + 20n scrape)', () => {
    fc.assert(
      fc.property(
        arbU32,
        arbHash,
        arbHash,
        fc.array(arbHash, { minLength: 1, maxLength: 74 }),
        (tid, ih, pid, hashes) => {
          const connect = encodeConnectRequest(tid);
          expect(connect.length).toBe(16);
          expect(decodeUdpRequest(connect)).toEqual({ action: 'connect', transactionId: tid });
          const announce = encodeAnnounceRequest({
            connectionId: 42n,
            transactionId: tid,
            infoHash: ih,
            peerId: pid,
            downloaded: 1,
            left: 2 ** 40,
            uploaded: 3,
            event: 'started',
            ip: 0,
            key: 7,
            numWant: -1,
            port: 6881,
          });
          expect(announce.length).toBe(98);
          const decoded = decodeUdpRequest(announce);
          expect(decoded).toMatchObject({
            action: 'announce',
            left: 2 ** 40,
            event: 'started',
            numWant: -1,
          });
          const scrape = encodeScrapeRequest(42n, tid, hashes);
          expect(scrape.length).toBe(16 + 20 * hashes.length);
          expect(decodeUdpRequest(scrape)).toMatchObject({ action: 'scrape', infoHashes: hashes });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the retransmission schedule is 15·2^n s for n = 0..8', () => {
    expect(
      Array.from({ length: MAX_RETRANSMITS + 1 }, (_, n) => retransmitTimeout(n) / 1000),
    ).toEqual([15, 30, 60, 120, 240, 480, 960, 1920, 3840]);
  });
});

async function withSeed(name: string, seed: number, body: (sim: Simulation) => Promise<void>) {
  const sim = new Simulation({ seed, link: { latency: 20, jitter: 10 } });
  try {
    await sim.run(() => body(sim), { maxTimeMs: 6 * 3600_000 });
  } catch (error) {
    console.error(`${name} failed; replay with ${replayHint(seed)}`);
    throw error;
  }
}

describe('UDP tracker client and server (netsim)', () => {
  it('a swarm bootstrapped only by a UDP tracker completes under 10% datagram loss', async () => {
    const seed = seedFromEnv(20_260_015);
    await withSeed('udp-tracker-swarm', seed, async (sim) => {
      sim.setDefaultLink({ latency: 20, jitter: 10, loss: 0.1 });
      const fixture = makeTorrent('udp.bin', [200_000], 16_384, seed);
      const trackerHost = sim.addHost();
      const server = await UdpTrackerServer.open(trackerHost.network, {
        host: trackerHost.address,
        port: 6969,
        interval: 60,
      });
      const tracker = { host: trackerHost.address, port: 6969 };
      const start = async (host: SimHost, seeding: boolean) => {
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
        const client = await UdpTrackerClient.open(host.network, { host: host.address });
        let stopped = false;
        const announce = async (event: 'started' | 'none') => {
          const stats = torrent.stats();
          const answer = await client.announce(tracker, {
            infoHash: fixture.info.infoHash,
            peerId: torrent.peerId,
            port: 6881,
            uploaded: stats.uploaded,
            downloaded: stats.downloaded,
            left: stats.left ?? fixture.data.length,
            event,
          });
          for (const p of answer.peers) torrent.addPeer(p);
          return answer.interval;
        };
        const loop = (async () => {
          let interval = await announce('started');
          while (!stopped) {
            await new Promise<void>((r) => host.network.clock.setTimeout(r, interval * 1000));
            if (!stopped) interval = await announce('none');
          }
        })();
        return {
          torrent,
          client,
          stop: async () => {
            stopped = true;
            await client.close();
            await loop.catch(() => undefined);
            await torrent.close();
          },
        };
      };
      const peers = [await start(sim.addHost(), true)];
      for (let i = 0; i < 4; i++) peers.push(await start(sim.addHost(), false));
      for (const p of peers.slice(1)) await p.torrent.whenDone();
      const retransmits = peers.reduce((n, p) => n + p.client.retransmissions, 0);
      console.log(`udp tracker swarm (seed ${seed}): ${retransmits} retransmissions`);
      for (const p of peers) await p.stop();
      await server.close();
    });
  });

  it('a lost request is sent again: the server sees the connect twice when the first is dropped', async () => {
    await withSeed('udp-retransmit', seedFromEnv(7), async (sim) => {
      const trackerHost = sim.addHost();
      const clientHost = sim.addHost();
      const server = await UdpTrackerServer.open(trackerHost.network, {
        host: trackerHost.address,
        port: 6969,
      });
      // Take the link down for the first 10 s: the first connect (timeout 15 s) is lost.
      sim.setLink(clientHost.address, trackerHost.address, { down: true });
      sim.clock.setTimeout(() => sim.clearLink(clientHost.address, trackerHost.address), 10_000);
      const client = await UdpTrackerClient.open(clientHost.network, { host: clientHost.address });
      const answer = await client.announce(
        { host: trackerHost.address, port: 6969 },
        {
          infoHash: new Uint8Array(20).fill(1),
          peerId: new Uint8Array(20).fill(2),
          port: 1234,
          uploaded: 0,
          downloaded: 0,
          left: 10,
          event: 'started',
        },
      );
      expect(answer.peers).toEqual([]);
      expect(client.retransmissions).toBe(1);
      expect(server.peers(new Uint8Array(20).fill(1))).toEqual([
        { host: clientHost.address, port: 1234 },
      ]);
      await client.close();
      await server.close();
    });
  });

  it('an error answer is TRACKER_FAILURE; garbage is ignored until the schedule gives up (TIMEOUT)', async () => {
    await withSeed('udp-errors', seedFromEnv(8), async (sim) => {
      const trackerHost = sim.addHost();
      const clientHost = sim.addHost();
      const socket = await trackerHost.network.bindDatagram({
        host: trackerHost.address,
        port: 6969,
      });
      let mode: 'error' | 'garbage' = 'error';
      socket.onMessage((data, from) => {
        const tid = new DataView(data.buffer, data.byteOffset).getUint32(12);
        if (mode === 'error')
          socket.send(
            encodeUdpResponse({ action: 'error', transactionId: tid, message: 'banned' }),
            from,
          );
        else socket.send(new Uint8Array([0, 0, 0, 9, 1, 2, 3]), from);
      });
      const client = await UdpTrackerClient.open(clientHost.network, {
        host: clientHost.address,
        maxRetransmits: 2,
      });
      const tracker = { host: trackerHost.address, port: 6969 };
      const params = {
        infoHash: new Uint8Array(20),
        peerId: new Uint8Array(20),
        port: 1,
        uploaded: 0,
        downloaded: 0,
        left: 0,
        event: 'none' as const,
      };
      const failure = await client.announce(tracker, params).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(TrackerError);
      expect((failure as TrackerError).code).toBe('TRACKER_FAILURE');
      expect((failure as TrackerError).message).toBe('banned');
      mode = 'garbage';
      const timeout = await client.announce(tracker, params).catch((e: unknown) => e);
      expect((timeout as TrackerError).code).toBe('TIMEOUT');
      expect(client.retransmissions).toBe(2);
      await client.close();
      await socket.close();
    });
  });
});
