/**
 * peerkit-share's tracker wiring (./node-trackers.ts, piece-exchange's `TrackerAnnouncer`): the
 * events a user sees. A first tier that answers `failure reason` is one `warning` with its reason,
 * the next tier's answer is a `tracker` event with its peer count and `warning message`; URLs the
 * node cannot use are reported once and left out.
 */
import { createServer } from 'node:http';
import { encode } from '@peerkit/bencode';
import { nodeNetwork } from '@peerkit/transport';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeEvent } from '../src/events';
import { startNodeTrackers, trackerTiers } from '../src/node-trackers';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** An HTTP server answering every request with `body` (bencoded). */
async function answering(body: Record<string, unknown>): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(Buffer.from(encode(body as Parameters<typeof encode>[0])));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/announce`;
}

describe('tracker events of a share node', () => {
  it('failure reason → warning, then the next tier answers: tracker event with peers and warning', async () => {
    const failing = await answering({ 'failure reason': 'torrent not registered' });
    const working = await answering({
      interval: 1800,
      complete: 1,
      incomplete: 0,
      'warning message': 'please upgrade',
      peers: Buffer.from([127, 0, 0, 1, 0x1a, 0xe1, 127, 0, 0, 2, 0x1a, 0xe2]),
    });
    const events: NodeEvent[] = [];
    const fed: string[] = [];
    const trackers = startNodeTrackers({
      network: nodeNetwork(),
      host: '127.0.0.1',
      trackers: [[failing], [working]],
      infoHash: new Uint8Array(20).fill(1),
      peerId: new Uint8Array(20).fill(2),
      port: 6881,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 10 }),
      feed: (p) => fed.push(`${p.host}:${p.port}`),
      emit: (e) => events.push(e),
    });
    try {
      for (let i = 0; i < 500 && !events.some((e) => e.type === 'tracker'); i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(events).toEqual([
        {
          type: 'warning',
          code: 'TRACKER_FAILURE',
          message: `tracker ${failing}: torrent not registered`,
        },
        {
          type: 'tracker',
          url: working,
          announce: 'started',
          peers: 2,
          seeders: 1,
          leechers: 0,
          warning: 'please upgrade',
        },
      ]);
      expect(fed).toEqual(['127.0.0.1:6881', '127.0.0.2:6882']);
    } finally {
      await trackers?.close();
    }
    // stopped went to the tracker that answered.
    expect(events.at(-1)).toMatchObject({ type: 'tracker', url: working, announce: 'stopped' });
  });

  it('URLs it cannot use are reported once and dropped; tiers are kept', () => {
    const events: NodeEvent[] = [];
    const tiers = trackerTiers(
      ['wss://tracker.example', ['udp://a.example:80', 'ftp://x'], 'https://b.example/announce'],
      (e) => events.push(e),
    );
    expect(tiers).toEqual([['udp://a.example:80'], ['https://b.example/announce']]);
    expect(events).toEqual([
      {
        type: 'warning',
        code: 'UNSUPPORTED_TRACKER',
        message: 'skipping trackers peerkit-share cannot use: wss://tracker.example ftp://x',
      },
    ]);
  });
});
