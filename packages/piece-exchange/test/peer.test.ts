/**
 * The peer connection state machine against scripted remote peers on loopback: the pipeline
 * follows `reqq`, a choking peer that rejects cannot cause a request loop (webtorrent#890),
 * a silent peer is snubbed and its requests go to another peer.
 */
import { nodeNetwork, type Stream } from '@peerkit/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineDepth } from '../src/session/peer-limits';
import { memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import { torrentGeometry, WireDecoder, type WireFrame } from '../src/wire/decoder';
import { EXTENSION_HANDSHAKE_ID, encodeExtensionHandshake } from '../src/wire/extension';
import { encodeHandshake } from '../src/wire/handshake';
import {
  encodeAllowedFast,
  encodeExtended,
  encodeReject,
  HAVE_ALL,
  UNCHOKE,
} from '../src/wire/messages';
import { decodeMetadataMessage, encodeMetadataMessage } from '../src/wire/metadata';
import { type Fixture, makeTorrent, plant } from './fixtures';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A remote peer driven by `script`, which sees every frame the peerkit side sends. */
async function scriptedPeer(
  fixture: Fixture,
  script: (frame: WireFrame, send: (bytes: Uint8Array) => void) => void,
  options: { reqq?: number; metadataSize?: number } = {},
) {
  const network = nodeNetwork();
  const streams: Stream[] = [];
  const listener = await network.listen({ host: '127.0.0.1' }, (stream) => {
    streams.push(stream);
    const decoder = new WireDecoder({
      torrent: torrentGeometry(fixture.data.length, fixture.info.pieceLength),
    });
    const send = (bytes: Uint8Array) => void stream.write(bytes).catch(() => undefined);
    void (async () => {
      try {
        for await (const chunk of stream) {
          for (const frame of decoder.decode(chunk)) {
            if (frame.type === 'handshake') {
              send(
                encodeHandshake({
                  infoHash: fixture.info.infoHash,
                  peerId: new Uint8Array(20).fill(7),
                  extensions: { extended: true, fast: true },
                }),
              );
              send(
                encodeExtended(
                  EXTENSION_HANDSHAKE_ID,
                  encodeExtensionHandshake({
                    m: options.metadataSize ? { ut_metadata: 5 } : {},
                    ...(options.reqq ? { reqq: options.reqq } : {}),
                    ...(options.metadataSize ? { metadataSize: options.metadataSize } : {}),
                  }),
                ),
              );
              send(HAVE_ALL);
            }
            script(frame, send);
          }
        }
      } catch {
        // the leecher closed the connection
      }
    })();
  });
  cleanups.push(async () => {
    for (const s of streams) s.destroy();
    await listener.close();
  });
  return listener.localAddress;
}

async function leecher(fixture: Fixture, peers: { host: string; port: number }[], extra = {}) {
  const torrent = await Torrent.open({
    network: nodeNetwork(),
    directory: '/leech',
    info: fixture.info,
    fs: memoryFileSystem(),
    resume: false,
    peers,
    ...extra,
  });
  cleanups.push(() => torrent.close());
  return torrent;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('peer connection', () => {
  it('pipeline depth follows the rate, capped by reqq; a snubbed peer gets one request', () => {
    const limits = { minRequestDepth: 16, maxRequestDepth: 1000, pipelineSeconds: 2 };
    expect(pipelineDepth(0, limits, undefined, false)).toBe(16);
    expect(pipelineDepth(1_000_000, limits, undefined, false)).toBe(123);
    expect(pipelineDepth(100_000_000, limits, undefined, false)).toBe(250);
    expect(pipelineDepth(100_000_000, limits, 500, false)).toBe(500);
    expect(pipelineDepth(100_000_000, limits, 5000, false)).toBe(1000);
    expect(pipelineDepth(1_000_000, limits, 3, false)).toBe(3);
    expect(pipelineDepth(1_000_000, limits, 500, true)).toBe(1);
  });

  it('never has more requests outstanding than the peer’s reqq', async () => {
    const fixture = makeTorrent('reqq.bin', [500_000], 65_536, 2);
    let requests = 0;
    const address = await scriptedPeer(
      fixture,
      (frame, send) => {
        if (frame.type === 'interested') send(UNCHOKE);
        if (frame.type === 'request') requests++;
      },
      { reqq: 3 },
    );
    await leecher(fixture, [address]);
    for (let i = 0; i < 100 && requests < 3; i++) await sleep(50);
    await sleep(1000); // many ticks: the pipeline would have grown by now
    expect(requests).toBe(3);
  });

  it('a choking peer that rejects allowed-fast requests causes no request loop (BEP 6)', async () => {
    const fixture = makeTorrent('fast.bin', [300_000], 32_768, 3);
    const requested: string[] = [];
    const address = await scriptedPeer(fixture, (frame, send) => {
      if (frame.type === 'handshake') send(encodeAllowedFast(0));
      if (frame.type === 'request') {
        requested.push(`${frame.index}/${frame.begin}`);
        send(encodeReject(frame.index, frame.begin, frame.length));
      }
    });
    const torrent = await leecher(fixture, [address], { tickMs: 100 });
    for (let i = 0; i < 100 && requested.length < 2; i++) await sleep(50);
    await sleep(1500); // fifteen ticks, each of which could re-request
    // Piece 0 was allowed fast: its two blocks are asked once, rejected, and never again.
    expect(requested.sort()).toEqual(['0/0', '0/16384']);
    expect(torrent.stats().verifiedPieces).toBe(0);
  });

  it('a silent peer is snubbed and its requests are fetched from another peer', async () => {
    const fixture = makeTorrent('snub.bin', [400_000], 32_768, 4);
    const silent = await scriptedPeer(fixture, (frame, send) => {
      if (frame.type === 'interested') send(UNCHOKE);
    });
    const fs = memoryFileSystem();
    plant(fs, '/seed', fixture);
    const seeder = await Torrent.open({
      network: nodeNetwork(),
      directory: '/seed',
      info: fixture.info,
      fs,
      recheck: true,
      listen: { host: '127.0.0.1' },
    });
    cleanups.push(() => seeder.close());
    const torrent = await leecher(fixture, [silent], {
      tickMs: 100,
      limits: { requestTimeoutMs: 500 },
    });
    // Let the silent peer take requests first, then add the real seeder.
    for (let i = 0; i < 40 && !torrent.stats().peers[0]?.amInterested; i++) await sleep(50);
    expect(torrent.stats().peers[0]?.amInterested).toBe(true);
    // No block for requestTimeoutMs: snubbed, its requests handed back to the picker.
    for (let i = 0; i < 60 && !torrent.stats().peers[0]?.snubbed; i++) await sleep(50);
    expect(torrent.stats().peers[0]?.snubbed).toBe(true);
    torrent.addPeer(seeder.listenAddress!);
    await torrent.whenDone();
    expect(torrent.stats().verifiedPieces).toBe(torrent.stats().pieceCount);
  });

  it('a peer serving a wrong info dictionary is found out; the magnet still completes (BEP 9)', async () => {
    const fixture = makeTorrent('liar.bin', [300_000], 16_384, 6);
    const size = fixture.info.infoBytes!.length;
    let lies = 0;
    const liar = await scriptedPeer(
      fixture,
      (frame, send) => {
        if (frame.type !== 'extended' || frame.id !== 5) return;
        const m = decodeMetadataMessage(frame.payload);
        if (m.type !== 'request') return;
        lies++;
        const length = Math.min(16_384, size - m.piece * 16_384);
        const data = new Uint8Array(length).fill(0x41);
        send(
          encodeExtended(
            1,
            encodeMetadataMessage({ type: 'data', piece: m.piece, totalSize: size, data }),
          ),
        );
      },
      { metadataSize: size },
    );
    const fs = memoryFileSystem();
    plant(fs, '/seed', fixture);
    const seeder = await Torrent.open({
      network: nodeNetwork(),
      directory: '/seed',
      info: fixture.info,
      fs,
      recheck: true,
      listen: { host: '127.0.0.1' },
    });
    cleanups.push(() => seeder.close());
    const torrent = await Torrent.open({
      network: nodeNetwork(),
      directory: '/leech',
      infoHash: fixture.info.infoHash,
      fs: memoryFileSystem(),
      resume: false,
      peers: [liar],
      tickMs: 100,
    });
    cleanups.push(() => torrent.close());
    for (let i = 0; i < 40 && lies === 0; i++) await sleep(50);
    torrent.addPeer(seeder.listenAddress!);
    await torrent.whenDone();
    expect(lies).toBeGreaterThan(0);
    expect(torrent.info?.name).toBe('liar.bin');
  });
});
