/**
 * Upload groups across piece boundaries (issue #22): `take` runs on from the end of a piece into
 * the next, `readGroup` reads once per piece spanned, and `encodeGroup` lays out the `piece`
 * messages (BEP 3) with each block's own bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeGroup, readGroup, UploadQueue } from '../src/session/upload-queue';
import { decodeMessage } from '../src/wire/decoder';
import { BLOCK_LENGTH, type RequestMessage } from '../src/wire/messages';

const request = (index: number, begin: number, length = BLOCK_LENGTH): RequestMessage => ({
  type: 'request',
  index,
  begin,
  length,
});

/** The byte at `offset` of piece `piece` in a fake torrent. */
const byteAt = (piece: number, offset: number) => (piece * 31 + offset * 7) & 0xff;

describe('UploadQueue across pieces', () => {
  it('groups the end of a piece with the start of the next only when given piece sizes', () => {
    const pieceSize = () => 2 * BLOCK_LENGTH;
    const fill = (q: UploadQueue) => {
      for (const r of [
        request(0, BLOCK_LENGTH),
        request(1, 0),
        request(1, BLOCK_LENGTH),
        request(3, 0),
      ])
        q.push(r);
    };
    const within = new UploadQueue();
    fill(within);
    expect(within.take(16)?.map((r) => r.index)).toEqual([0]);
    const across = new UploadQueue();
    fill(across);
    expect(across.take(16, pieceSize)?.map((r) => `${r.index}/${r.begin}`)).toEqual([
      `0/${BLOCK_LENGTH}`,
      '1/0',
      `1/${BLOCK_LENGTH}`,
    ]);
    // Piece 2 is missing: piece 3 starts a new group.
    expect(across.take(16, pieceSize)?.map((r) => r.index)).toEqual([3]);
    // A block that does not end its piece is not followed by the next piece.
    const short = new UploadQueue();
    short.push(request(0, 0));
    short.push(request(1, 0));
    expect(short.take(16, pieceSize)?.map((r) => r.index)).toEqual([0]);
  });

  it('reads once per piece a group spans and sends every block with its own bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 12 }),
        async (blocksPerPiece, start, count) => {
          const pieceLength = blocksPerPiece * BLOCK_LENGTH;
          const queue = new UploadQueue();
          for (let k = 0; k < count; k++) {
            const block = start + k;
            queue.push(
              request(Math.floor(block / blocksPerPiece), (block % blocksPerPiece) * BLOCK_LENGTH),
            );
          }
          const group = queue.take(count, () => pieceLength)!;
          expect(group).toHaveLength(count);
          const reads: string[] = [];
          const parts = await readGroup(async (piece, offset, length) => {
            reads.push(`${piece}/${offset}/${length}`);
            return Uint8Array.from({ length }, (_, i) => byteAt(piece, offset + i));
          }, group);
          const pieces = new Set(group.map((r) => r.index));
          expect(reads).toHaveLength(pieces.size);
          const out = encodeGroup(group, parts);
          let at = 0;
          for (const r of group) {
            const length = new DataView(out.buffer, out.byteOffset + at).getUint32(0);
            const message = decodeMessage(out.subarray(at + 4, at + 4 + length));
            expect(message.type).toBe('piece');
            if (message.type !== 'piece') return;
            expect([message.index, message.begin, message.block.length]).toEqual([
              r.index,
              r.begin,
              r.length,
            ]);
            for (let i = 0; i < r.length; i += 997)
              expect(message.block[i]).toBe(byteAt(r.index, r.begin + i));
            at += 4 + length;
          }
          expect(at).toBe(out.length);
        },
      ),
      { numRuns: 100 },
    );
  });
});
