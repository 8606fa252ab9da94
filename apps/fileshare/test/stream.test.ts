/**
 * Streaming over real sockets: a leecher downloads from an upload-limited seeder over TCP on
 * loopback and serves the file over HTTP (src/http-stream.ts). A client reads a range at the
 * END of the file first and gets the right bytes while the download is still under way (asserted
 * on state, never on time), then reads the whole file; HEAD, 416 and the content type are right.
 */
import { randomBytes } from 'node:crypto';
import {
  createTorrent,
  memoryFileSystem,
  Torrent,
  torrentInfoFromMetainfo,
} from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { contentTypeOf, parseRange, startStreamServer } from '../src/http-stream';
import { limitedNetwork } from '../src/throttle';

const LENGTH = 4 * 1024 * 1024 + 12_345;
const PIECE = 32 * 1024;

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function swarm(uploadRate: number) {
  const data = new Uint8Array(randomBytes(LENGTH));
  const made = await createTorrent([{ path: ['movie.mp4'], length: LENGTH, content: data }], {
    pieceLength: PIECE,
  });
  const info = torrentInfoFromMetainfo(made.metainfo);
  const seedFs = memoryFileSystem();
  seedFs.put('/seed/movie.mp4', data);
  const seeder = await Torrent.open({
    network: limitedNetwork(nodeNetwork(), { upload: uploadRate }),
    directory: '/seed',
    info,
    fs: seedFs,
    assumeComplete: true,
    listen: { host: '127.0.0.1', port: 0 },
  });
  opened.push(seeder);
  const leecher = await Torrent.open({
    network: nodeNetwork(),
    directory: '/get',
    info,
    fs: memoryFileSystem(),
    peers: [seeder.listenAddress!],
  });
  opened.push(leecher);
  const server = await startStreamServer({ torrent: leecher, file: 0, port: 0 });
  opened.push(server);
  return { data, leecher, server };
}

describe('stream: HTTP range requests while downloading', () => {
  it('a range at the end arrives before the download is done, then the whole file', async () => {
    const { data, leecher, server } = await swarm(1024 * 1024);
    const tail = 300_000;
    const response = await fetch(server.url, { headers: { Range: `bytes=-${tail}` } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(
      `bytes ${LENGTH - tail}-${LENGTH - 1}/${LENGTH}`,
    );
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('content-type')).toBe('video/mp4');
    const got = new Uint8Array(await response.arrayBuffer());
    // The download is still under way: the tail's pieces were fetched first.
    expect(leecher.done).toBe(false);
    expect(leecher.stats().verifiedPieces).toBeLessThan(leecher.stats().pieceCount);
    expect(Buffer.from(got).equals(Buffer.from(data.subarray(LENGTH - tail)))).toBe(true);

    // A range in the middle, then the whole file (a player's first request).
    const middle = await fetch(server.url, { headers: { Range: 'bytes=1000000-1099999' } });
    expect(middle.status).toBe(206);
    const mid = new Uint8Array(await middle.arrayBuffer());
    expect(Buffer.from(mid).equals(Buffer.from(data.subarray(1_000_000, 1_100_000)))).toBe(true);
    const whole = await fetch(`${server.url}movie.mp4`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(LENGTH));
    const all = new Uint8Array(await whole.arrayBuffer());
    expect(Buffer.from(all).equals(Buffer.from(data))).toBe(true);
    await leecher.whenDone();
    expect(leecher.done).toBe(true);

    const head = await fetch(server.url, { method: 'HEAD', headers: { Range: 'bytes=10-19' } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-length')).toBe('10');
    const bad = await fetch(server.url, { headers: { Range: `bytes=${LENGTH}-` } });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe(`bytes */${LENGTH}`);
    await bad.arrayBuffer();
    const post = await fetch(server.url, { method: 'POST' });
    expect(post.status).toBe(405);
    const missing = await fetch(`${server.url}other`);
    expect(missing.status).toBe(404);
  }, 60_000);

  it('a client that goes away mid-range leaves no deadline behind', async () => {
    const { leecher, server } = await swarm(256 * 1024);
    const controller = new AbortController();
    const response = await fetch(server.url, {
      headers: { Range: 'bytes=2000000-' },
      signal: controller.signal,
    });
    expect(response.status).toBe(206);
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => undefined);
    // The stream ended: its deadlines are given back at once, not when its piece arrives.
    for (let i = 0; i < 100 && leecher.stats().timeCriticalPieces > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(leecher.done).toBe(false);
    expect(leecher.stats().peers.length).toBeGreaterThan(0);
    expect(leecher.stats().timeCriticalPieces).toBe(0);
  }, 60_000);
});

describe('parseRange', () => {
  it('follows RFC 9110 section 14', () => {
    expect(parseRange(undefined, 100)).toBeUndefined();
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=90-1000', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(parseRange('items=0-1', 100)).toBeUndefined();
    expect(parseRange('bytes=5-1', 100)).toBeUndefined();
    expect(contentTypeOf('a.MKV')).toBe('video/x-matroska');
    expect(contentTypeOf('a.unknown')).toBe('application/octet-stream');
  });
});
