/**
 * The peer rules catch a broken seeder: a scripted one that resets connections which do not
 * start with the BitTorrent handshake and drops a connection on a bitfield in its middle. Runs
 * the rules from code with `runRules` (what `peerkit-conform` does) and checks the outcomes.
 */

import { runRules } from '@peerkit/conformance';
import { type Network, nodeNetwork, type Stream, type StreamListener } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPeerContext, peerRules } from '../src/conformance';
import { parseTorrent, requireV1 } from '../src/metainfo/parse';
import type { V1Metainfo } from '../src/metainfo/types';
import { WireDecoder } from '../src/wire/decoder';
import { encodeHandshake } from '../src/wire/handshake';
import { encodeBitfield, encodePiece, UNCHOKE } from '../src/wire/messages';
import { makeTorrent } from './fixtures';

/** A seeder of `torrent` that is strict where the rules ask for tolerance (the two bugs). */
async function startStrictSeeder(
  network: Network,
  torrent: V1Metainfo,
  data: Uint8Array,
): Promise<{ listener: StreamListener; close(): Promise<void> }> {
  const streams = new Set<Stream>();
  const serve = async (stream: Stream) => {
    streams.add(stream);
    const decoder = new WireDecoder();
    let messages = 0;
    try {
      for await (const chunk of stream) {
        for (const frame of decoder.decode(chunk)) {
          if (frame.type === 'handshake') {
            if (Buffer.compare(frame.infoHash, torrent.infoHash) !== 0)
              throw new Error('unknown torrent');
            await stream.write(
              encodeHandshake({ infoHash: torrent.infoHash, peerId: network.random.bytes(20) }),
            );
            const bits = new Uint8Array(Math.ceil(torrent.pieceCount / 8));
            for (let i = 0; i < torrent.pieceCount; i++)
              bits[i >> 3] = (bits[i >> 3] as number) | (0x80 >> (i & 7));
            await stream.write(encodeBitfield(bits));
            continue;
          }
          messages++;
          // Bug 2: a bitfield that is not the first message ends the connection.
          if (frame.type === 'bitfield' && messages > 1) throw new Error('late bitfield');
          if (frame.type === 'interested') await stream.write(UNCHOKE);
          if (frame.type === 'request') {
            const start = frame.index * torrent.pieceLength + frame.begin;
            await stream.write(
              encodePiece(frame.index, frame.begin, data.slice(start, start + frame.length)),
            );
          }
        }
      }
    } catch {
      // Bug 1: an opening that is not BitTorrent (the decoder throws) is reset, not closed.
      stream.destroy();
    }
    streams.delete(stream);
  };
  const listener = await network.listen({ host: '127.0.0.1' }, (stream) => void serve(stream));
  return {
    listener,
    async close() {
      for (const s of streams) s.destroy();
      await listener.close();
    },
  };
}

describe('peer rules against a broken seeder', () => {
  const network = nodeNetwork();
  const fixture = makeTorrent('strict', [50_000], 32_768, 5);
  const torrent = requireV1(parseTorrent(fixture.torrentFile()));
  let seeder: Awaited<ReturnType<typeof startStrictSeeder>>;
  beforeAll(async () => {
    seeder = await startStrictSeeder(network, torrent, fixture.data);
  });
  afterAll(() => seeder.close());

  it('fails the two rules it breaks, with the reason and a replayable seed', async () => {
    const ctx = openPeerContext(network, seeder.listener.localAddress, torrent, {
      timeoutMs: 1_000,
    });
    try {
      const report = await runRules('peer', 'strict seeder', peerRules, ctx, {
        runs: 5,
        seed: 7,
        only: ['peer.handshake', 'peer.request.block', 'peer.wire.late-bitfield'],
      });
      const outcome = Object.fromEntries(report.results.map((r) => [r.id, r]));
      expect(Object.fromEntries(report.results.map((r) => [r.id, r.outcome]))).toEqual({
        'peer.handshake.info-hash': 'passed',
        'peer.handshake.unknown-info-hash': 'passed',
        'peer.handshake.other-protocol': 'failed',
        'peer.request.block': 'passed',
        'peer.wire.late-bitfield': 'failed',
      });
      const reset = outcome['peer.handshake.other-protocol'];
      expect(reset?.reason).toMatch(/reset .*not closed cleanly/);
      const late = outcome['peer.wire.late-bitfield'];
      expect(late?.reason).toMatch(/closed the connection after bitfield/);
      // Shrunk to a single late bitfield, and the seed and path are there to replay it.
      expect(late?.counterexample).toMatch(/^\{"announcements":\[\{"type":"bitfield"/);
      expect(late?.seed).toBe(7);
      expect(late?.path).toBeDefined();
    } finally {
      await ctx.close();
    }
  });
});
