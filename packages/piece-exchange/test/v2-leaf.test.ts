/**
 * BEP 52 base-layer hash requests against a real `Torrent` in netsim: a hand-written peer asks a
 * v2 seeder for a block, then for the block hashes of that piece; the seeder reads the piece from
 * its storage and answers with hashes that prove against the file's `pieces root`.
 */
import { seedFromEnv } from '@peerkit/netsim';
import type { Network } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { leafHashes } from '../src/metainfo/merkle-tree';
import { hashesProven } from '../src/v2/hash-exchange';
import { WireDecoder, type WireFrame } from '../src/wire/decoder';
import { encodeHandshake } from '../src/wire/handshake';
import { decodeHashMessage, encodeHashMessage } from '../src/wire/hashes';
import { BLOCK_LENGTH, encodeRequest, INTERESTED } from '../src/wire/messages';
import { makeV2Torrent, PORT, seedV2, withSeed } from './v2-fixtures';

async function until(network: Network, what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !done(); i++)
    await new Promise<void>((resolve) => network.clock.setTimeout(resolve, 100));
  if (!done()) throw new Error(`no ${what} within 60 s`);
}

describe('BEP 52 base-layer hashes from a seeder', () => {
  it('a block request then a base-layer hash request for its piece: proven block hashes', async () => {
    const seed = seedFromEnv(21);
    await withSeed('v2-leaf-hashes', seed, async (sim) => {
      const pieceLength = 4 * BLOCK_LENGTH;
      const fixture = await makeV2Torrent('leaves', [300_000, 70_000], pieceLength, 'v2', seed);
      const seederHost = sim.addHost();
      const seeder = await seedV2(seederHost, fixture);
      const client = sim.addHost();
      const stream = await client.network.dial({ host: seederHost.address, port: PORT });
      const decoder = new WireDecoder({ handshake: true });
      const frames: WireFrame[] = [];
      const reading = (async () => {
        for await (const chunk of stream) frames.push(...decoder.decode(chunk));
      })().catch(() => undefined);
      const peerId = new Uint8Array(20).fill(0x62);
      await stream.write(
        encodeHandshake({
          infoHash: fixture.info.infoHash,
          peerId,
          extensions: { fast: true, v2: true },
        }),
      );
      await stream.write(INTERESTED);
      await until(client.network, 'unchoke', () => frames.some((f) => f.type === 'unchoke'));
      // Piece 5 is the second file's first piece (file 0 has five pieces of 64 KiB).
      const file = fixture.info.v2!.files[1]!;
      const piece = file.offset / pieceLength;
      expect(piece).toBe(5);
      await stream.write(encodeRequest(piece, BLOCK_LENGTH, BLOCK_LENGTH));
      const request = {
        piecesRoot: file.piecesRoot,
        baseLayer: 0,
        index: 0,
        length: 4,
        proofLayers: 8,
      };
      await stream.write(encodeHashMessage({ type: 'hashRequest', ...request }));
      const hashFrames = () =>
        frames.flatMap((f) => (f.type === 'unknown' ? [decodeHashMessage(f.id, f.payload)] : []));
      await until(client.network, 'hash answer', () => hashFrames().length > 0);
      const [answer] = hashFrames();
      if (answer?.type !== 'hashes') throw new Error(`got ${answer?.type}`);
      expect(hashesProven(answer, file.piecesRoot)).toBe(true);
      const bytes = fixture.files.get('leaves/file1.bin')!;
      const expected = leafHashes(bytes.subarray(0, pieceLength));
      expect(Buffer.concat(answer.hashes)).toEqual(Buffer.from(expected));
      await until(client.network, 'the block', () => frames.some((f) => f.type === 'piece'));
      stream.destroy();
      await reading;
      await seeder.close();
    });
  });
});
