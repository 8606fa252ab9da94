/**
 * HTTP trackers: total decoding of announce and scrape answers (fuzzed), the BEP 3/7/23/48
 * fields, and the HTTP/1.1 GET over a netsim stream (Content-Length, chunked, read to end,
 * failure reason, timeout).
 */
import { encode } from '@peerkit/bencode';
import { replayHint, Simulation, seedFromEnv } from '@peerkit/netsim';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrackerError } from '../src/tracker/errors';
import {
  announceUrl,
  httpAnnounce,
  httpScrape,
  parseAnnounceResponse,
  parseScrapeResponse,
  scrapeUrl,
} from '../src/tracker/http-tracker';

const hash = new Uint8Array(20).fill(0xab);

describe('HTTP tracker responses', () => {
  it('any bytes decode to a response or TrackerError (announce and scrape)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const parse of [
          () => parseAnnounceResponse(bytes),
          () => parseScrapeResponse(bytes, [hash]),
        ]) {
          try {
            parse();
          } catch (error) {
            expect(error).toBeInstanceOf(TrackerError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('any bencoded dictionary decodes to a response or TrackerError', () => {
    const arbValue = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.uint8Array({ maxLength: 40 }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(
          fc.constantFrom('peers', 'peers6', 'interval', 'ip', 'port', 'files', 'complete'),
          tie('value'),
          { maxKeys: 4 },
        ),
      ),
    })).value;
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(
            'peers',
            'peers6',
            'interval',
            'min interval',
            'failure reason',
            'warning message',
            'complete',
            'files',
          ),
          arbValue,
        ),
        (dict) => {
          const bytes = encode(dict as never);
          try {
            const r = parseAnnounceResponse(bytes);
            expect(r.interval).toBeGreaterThan(0);
            expect(r.peers.length).toBeLessThanOrEqual(1000);
          } catch (error) {
            expect(error).toBeInstanceOf(TrackerError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reads compact IPv4 (BEP 23), peers6 (BEP 7), dictionary peers, intervals, warning, failure', () => {
    const r = parseAnnounceResponse(
      encode({
        interval: 900,
        'min interval': 60,
        complete: 3,
        incomplete: 4,
        'warning message': Buffer.from('slow down'),
        peers: new Uint8Array([127, 0, 0, 1, 0x1a, 0xe1]),
        peers6: new Uint8Array([...new Uint8Array(15), 1, 0x1a, 0xe2]),
      }),
    );
    expect(r).toEqual({
      interval: 900,
      minInterval: 60,
      complete: 3,
      incomplete: 4,
      warning: 'slow down',
      peers: [
        { host: '127.0.0.1', port: 6881 },
        { host: '0:0:0:0:0:0:0:1', port: 6882 },
      ],
    });
    const dicts = parseAnnounceResponse(
      encode({ interval: 10, peers: [{ ip: Buffer.from('10.0.0.1'), port: 1, 'peer id': hash }] }),
    );
    expect(dicts.peers).toEqual([{ host: '10.0.0.1', port: 1 }]);
    expect(() =>
      parseAnnounceResponse(encode({ 'failure reason': Buffer.from('unregistered torrent') })),
    ).toThrow(
      expect.objectContaining({ code: 'TRACKER_FAILURE', message: 'unregistered torrent' }),
    );
  });

  it('BEP 48 scrape URLs and answers', () => {
    expect(scrapeUrl('http://example.com/announce', [])).toBe('http://example.com/scrape');
    expect(scrapeUrl('http://example.com/x/announce', [hash])).toContain(
      'http://example.com/x/scrape?info_hash=%AB',
    );
    expect(scrapeUrl('http://example.com/announce.php', [])).toBe('http://example.com/scrape.php');
    expect(scrapeUrl('http://example.com/a', [])).toBeUndefined();
    expect(scrapeUrl('http://example.com/announce?x%064', [])).toBe(
      'http://example.com/scrape?x%064',
    );
    expect(scrapeUrl('http://example.com/x%064announce', [])).toBeUndefined();
    const files: Record<string, unknown> = {};
    files[Buffer.from(hash).toString('latin1')] = { complete: 5, downloaded: 50, incomplete: 10 };
    const out = parseScrapeResponse(encode({ files } as never), [hash, new Uint8Array(20)]);
    expect(out).toEqual([{ seeders: 5, completed: 50, leechers: 10 }, undefined]);
  });

  it('announce URLs carry the BEP 3 parameters, binary percent-encoded', () => {
    const url = announceUrl('http://t/announce', {
      infoHash: hash,
      peerId: new TextEncoder().encode('-PK0100-abcdefghijkl'),
      port: 6881,
      uploaded: 1,
      downloaded: 2,
      left: 3,
      event: 'started',
    });
    expect(url).toBe(
      `http://t/announce?info_hash=${'%AB'.repeat(20)}&peer_id=-PK0100-abcdefghijkl&port=6881&uploaded=1&downloaded=2&left=3&compact=1&numwant=50&event=started`,
    );
  });
});

async function withSeed(name: string, seed: number, body: (sim: Simulation) => Promise<void>) {
  const sim = new Simulation({ seed, link: { latency: 10 } });
  try {
    await sim.run(() => body(sim), { maxTimeMs: 10 * 60_000 });
  } catch (error) {
    console.error(`${name} failed; replay with ${replayHint(seed)}`);
    throw error;
  }
}

describe('HTTP GET over a netsim stream', () => {
  it('Content-Length, chunked and read-to-end bodies; failure reason; a silent server times out', async () => {
    await withSeed('http-tracker', seedFromEnv(9), async (sim) => {
      const server = sim.addHost();
      const client = sim.addHost();
      const body = Buffer.from(
        encode({ interval: 60, peers: new Uint8Array([10, 0, 0, 2, 0, 80]) }),
      );
      let mode: 'length' | 'chunked' | 'close' | 'failure' | 'silent' = 'length';
      const requests: string[] = [];
      const listener = await server.network.listen({ host: server.address, port: 80 }, (stream) => {
        void (async () => {
          const it = stream[Symbol.asyncIterator]();
          let head = '';
          while (!head.includes('\r\n\r\n')) {
            const next = await it.next();
            if (next.done) return;
            head += Buffer.from(next.value).toString('latin1');
          }
          requests.push(head.split('\r\n')[0]!);
          if (mode === 'silent') return;
          const send = (s: string | Buffer) =>
            stream.write(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
          if (mode === 'length' || mode === 'failure') {
            const b =
              mode === 'failure'
                ? Buffer.from(encode({ 'failure reason': Buffer.from('nope') }))
                : body;
            await send(`HTTP/1.1 200 OK\r\nContent-Length: ${b.length}\r\n\r\n`);
            await send(b);
          } else if (mode === 'chunked') {
            await send('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
            await send(`5\r\n${body.subarray(0, 5).toString('latin1')}\r\n`);
            await send(
              `${(body.length - 5).toString(16)}\r\n${body.subarray(5).toString('latin1')}\r\n0\r\n\r\n`,
            );
          } else {
            await send('HTTP/1.0 200 OK\r\n\r\n');
            await send(body);
            await stream.end();
            return;
          }
          await stream.end();
        })().catch(() => undefined);
      });
      const url = `http://${server.address}/announce`;
      const params = {
        infoHash: hash,
        peerId: hash,
        port: 1,
        uploaded: 0,
        downloaded: 0,
        left: 0,
        event: 'none' as const,
      };
      for (const m of ['length', 'chunked', 'close'] as const) {
        mode = m;
        const r = await httpAnnounce(client.network, url, params);
        expect(r.peers, m).toEqual([{ host: '10.0.0.2', port: 80 }]);
        expect(r.interval).toBe(60);
      }
      expect(requests[0]).toMatch(/^GET \/announce\?info_hash=%AB.* HTTP\/1\.1$/);
      mode = 'failure';
      await expect(httpAnnounce(client.network, url, params)).rejects.toMatchObject({
        code: 'TRACKER_FAILURE',
        message: 'nope',
      });
      mode = 'failure';
      await expect(httpScrape(client.network, url, [hash])).rejects.toMatchObject({
        code: 'TRACKER_FAILURE',
      });
      expect(requests.at(-1)).toMatch(/^GET \/scrape\?info_hash=/);
      mode = 'silent';
      await expect(
        httpAnnounce(client.network, url, params, { timeoutMs: 5_000 }),
      ).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      await listener.close();
    });
  });
});
