/**
 * The HTTP tracker server (BEP 3, 23, 7, 48): total request parsing (fuzzed), compact and
 * non-compact answers, IPv6 `peers6`, scrape, `failure reason` for bad requests, the bounds;
 * and the HTTP tracker messages tests that lived in apps/fileshare (names kept).
 */
import { replayHint, Simulation, seedFromEnv } from '@peerkit/netsim';
import { nodeNetwork } from '@peerkit/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrackerError } from '../src/tracker/errors';
import { httpGet } from '../src/tracker/http-get';
import {
  encodeAnnounceAnswer,
  parseTrackerRequest,
  percentDecodeBytes,
} from '../src/tracker/http-request';
import { HttpTrackerServer } from '../src/tracker/http-server';
import {
  announceUrl,
  httpAnnounce,
  httpScrape,
  parseAnnounceResponse,
  percentEncodeBytes,
} from '../src/tracker/http-tracker';
import { TrackerSwarms } from '../src/tracker/swarms';

const params = (id: number, port: number, left = 100) => ({
  infoHash: new Uint8Array(20).fill(0xaa),
  peerId: new Uint8Array(20).fill(id),
  port,
  uploaded: 0,
  downloaded: 0,
  left,
  event: 'started' as const,
});

async function withSeed(name: string, seed: number, body: (sim: Simulation) => Promise<void>) {
  const sim = new Simulation({ seed, link: { latency: 5 } });
  try {
    await sim.run(() => body(sim), { maxTimeMs: 3600_000 });
  } catch (error) {
    console.error(`${name} failed; replay with ${replayHint(seed)}`);
    throw error;
  }
}

describe('HTTP tracker requests', () => {
  it('any target parses to an announce, a scrape or a failure (never throws)', () => {
    const arbTarget = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc
        .array(
          fc.tuple(
            fc.constantFrom(
              'info_hash',
              'peer_id',
              'port',
              'left',
              'event',
              'numwant',
              'compact',
              'x',
            ),
            fc.oneof(
              fc.string({ maxLength: 30 }),
              fc.uint8Array({ maxLength: 24 }).map(percentEncodeBytes),
            ),
          ),
          { maxLength: 10 },
        )
        .chain((pairs) =>
          fc
            .constantFrom('/announce', '/scrape', '/x', '/a/announce')
            .map((path) => `${path}?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
        ),
    );
    fc.assert(
      fc.property(arbTarget, (target) => {
        const r = parseTrackerRequest(target);
        expect(['announce', 'scrape', 'failure']).toContain(r.kind);
        if (r.kind === 'announce') {
          expect(r.infoHash).toHaveLength(20);
          expect(r.port).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('percent-decoding inverts percent-encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(percentDecodeBytes(percentEncodeBytes(bytes))).toEqual(bytes);
      }),
    );
    expect(percentDecodeBytes('%zz')).toBeUndefined();
  });

  it('answers round-trip: IPv4 in compact peers (BEP 23), IPv6 in peers6 (BEP 7), dictionaries on compact=0', () => {
    const peers = [
      { host: '10.0.0.1', port: 6881, left: 0, seenAt: 0, peerId: new Uint8Array(20).fill(1) },
      { host: '2001:db8:0:0:0:0:0:1', port: 51413, left: 5, seenAt: 0 },
    ];
    const answer = { peers, seeders: 1, leechers: 1, interval: 900 };
    const compact = parseAnnounceResponse(
      encodeAnnounceAnswer({ compact: true, noPeerId: false }, answer),
    );
    expect(compact).toEqual({
      interval: 900,
      minInterval: 450,
      complete: 1,
      incomplete: 1,
      peers: [
        { host: '10.0.0.1', port: 6881 },
        { host: '2001:db8:0:0:0:0:0:1', port: 51413 },
      ],
    });
    const list = parseAnnounceResponse(
      encodeAnnounceAnswer({ compact: false, noPeerId: false }, answer),
    );
    expect(list.peers).toEqual(compact.peers);
  });
});

describe('HttpTrackerServer (netsim)', () => {
  it('peers find each other; compact and non-compact; scrape counts seeders, leechers, completed', async () => {
    await withSeed('http-tracker-server', seedFromEnv(31), async (sim) => {
      const trackerHost = sim.addHost();
      const server = await HttpTrackerServer.open(trackerHost.network, {
        host: trackerHost.address,
        port: 80,
        interval: 300,
      });
      const a = sim.addHost();
      const b = sim.addHost();
      const first = await httpAnnounce(a.network, server.announceUrl, params(1, 5001, 0));
      expect(first).toMatchObject({ interval: 300, minInterval: 150, peers: [] });
      const second = await httpAnnounce(b.network, server.announceUrl, params(2, 5002));
      expect(second).toMatchObject({ complete: 1, incomplete: 1 });
      expect(second.peers).toEqual([{ host: a.address, port: 5001 }]);
      // compact=0: the original list of dictionaries, with peer ids.
      const url = announceUrl(server.announceUrl, params(2, 5002)).replace(
        'compact=1',
        'compact=0',
      );
      const raw = await httpGet(b.network, url);
      expect(Buffer.from(raw.body).toString('latin1')).toContain(
        `5:peersld2:ip${a.address.length}:${a.address}7:peer id20:${'\x01'.repeat(20)}4:porti5001eee`,
      );
      await httpAnnounce(b.network, server.announceUrl, {
        ...params(2, 5002, 0),
        event: 'completed',
      });
      const [entry] = await httpScrape(a.network, server.announceUrl, [params(1, 1).infoHash]);
      expect(entry).toEqual({ seeders: 2, leechers: 0, completed: 1 });
      // stopped removes the peer.
      await httpAnnounce(a.network, server.announceUrl, {
        ...params(1, 5001, 0),
        event: 'stopped',
      });
      expect(server.peers(params(1, 1).infoHash)).toEqual([{ host: b.address, port: 5002 }]);
      await server.close();
    });
  });

  it('bad requests get a failure reason; the limits hold (max torrents, max peers per torrent)', async () => {
    await withSeed('http-tracker-limits', seedFromEnv(32), async (sim) => {
      const trackerHost = sim.addHost();
      const swarms = new TrackerSwarms(trackerHost.network.random, {
        maxTorrents: 1,
        maxPeersPerTorrent: 2,
      });
      const server = await HttpTrackerServer.open(trackerHost.network, {
        host: trackerHost.address,
        port: 80,
        swarms,
      });
      const client = sim.addHost();
      const base = `http://${trackerHost.address}:80`;
      const failure = async (url: string) =>
        (
          (await httpAnnounce(client.network, url, params(1, 1)).catch((e: unknown) => e)) as
            | TrackerError
            | undefined
        )?.message;
      const missing = await httpGet(client.network, `${base}/announce?port=1`);
      expect(Buffer.from(missing.body).toString()).toBe('d14:failure reason17:invalid info_hashe');
      const notFound = await httpGet(client.network, `${base}/nothing`);
      expect(notFound.status).toBe(404);
      for (let i = 1; i <= 3; i++)
        await httpAnnounce(client.network, `${base}/announce`, params(i, 6000 + i));
      // Three peers announced, two kept: the oldest went.
      expect(server.peers(params(1, 1).infoHash)).toEqual([
        { host: client.address, port: 6002 },
        { host: client.address, port: 6003 },
      ]);
      const other = { ...params(1, 1), infoHash: new Uint8Array(20).fill(0xbb) };
      const full = await httpAnnounce(client.network, `${base}/announce`, other).catch(
        (e: unknown) => e,
      );
      expect(full).toBeInstanceOf(TrackerError);
      expect((full as TrackerError).code).toBe('TRACKER_FAILURE');
      expect((full as TrackerError).message).toBe('tracker full');
      expect(await failure(`${base}/x/announce?info_hash=%zz`)).toMatch(/malformed escape/);
      await server.close();
    });
  });

  it('serves IPv6 peers on ::1 (real sockets): the other peer comes back in peers6', async () => {
    const network = nodeNetwork();
    const server = await HttpTrackerServer.open(network, { host: '::1', port: 0 });
    try {
      await httpAnnounce(network, server.announceUrl, params(1, 7001));
      const answer = await httpAnnounce(network, server.announceUrl, params(2, 7002));
      expect(answer.peers).toEqual([{ host: '0:0:0:0:0:0:0:1', port: 7001 }]);
    } finally {
      await server.close();
    }
  });
});

describe('HTTP tracker messages (BEP 3, 23, 7)', () => {
  it('any bytes give a response or a TrackerError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const r = parseAnnounceResponse(bytes);
          expect(r.interval).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(TrackerError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reads compact IPv4 and IPv6 peers, dictionary peers and failures', () => {
    const v4 = Buffer.from([127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 80]);
    const v6 = Buffer.alloc(18);
    v6[15] = 1;
    v6.writeUInt16BE(6881, 16);
    const body = Buffer.concat([
      Buffer.from('d8:intervali900e5:peers12:'),
      v4,
      Buffer.from('6:peers618:'),
      v6,
      Buffer.from('e'),
    ]);
    expect(parseAnnounceResponse(body)).toEqual({
      interval: 900,
      peers: [
        { host: '127.0.0.1', port: 6881 },
        { host: '10.0.0.2', port: 80 },
        { host: '0:0:0:0:0:0:0:1', port: 6881 },
      ],
    });
    const list = Buffer.from('d5:peersld2:ip9:127.0.0.14:porti7000eeee');
    expect(parseAnnounceResponse(list).peers).toEqual([{ host: '127.0.0.1', port: 7000 }]);
    expect(() => parseAnnounceResponse(Buffer.from('d14:failure reason6:bannede'))).toThrow(
      /banned/,
    );
    expect(() => parseAnnounceResponse(Buffer.from('d14:failure reason6:bannede'))).toThrow(
      expect.objectContaining({ code: 'TRACKER_FAILURE', message: 'banned' }),
    );
  });

  it('percent-encodes binary so that decoding gives the bytes back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const encoded = percentEncodeBytes(bytes);
        expect(encoded).toMatch(/^[A-Za-z0-9\-._~%]*$/);
        expect(Buffer.from(unescape(encoded), 'latin1')).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 1000 },
    );
    const url = announceUrl('http://t.example/announce?key=1', {
      infoHash: new Uint8Array(20).fill(0xff),
      peerId: new Uint8Array(20).fill(0x41),
      port: 6881,
      uploaded: 1,
      downloaded: 2,
      left: 3,
      event: 'stopped',
    });
    expect(url).toBe(
      `http://t.example/announce?key=1&info_hash=${'%FF'.repeat(20)}&peer_id=${'A'.repeat(20)}&port=6881&uploaded=1&downloaded=2&left=3&compact=1&numwant=50&event=stopped`,
    );
  });
});
