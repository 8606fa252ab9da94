/**
 * Upload groups (issue #22): `take` hands out the next queued requests whatever their pieces,
 * `readGroup` reads once per run of consecutive blocks of a piece, and `encodeGroup` lays out
 * the `piece` messages (BEP 3) with each block's own bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeGroup, groupRanges, readGroup, UploadQueue } from '../src/session/upload-queue';
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
  it('makes one read of consecutive blocks across piece boundaries when given the piece size', () => {
    const pieceSize = (piece: number) => (piece === 3 ? BLOCK_LENGTH / 2 : 2 * BLOCK_LENGTH);
    const group = [
      request(0, BLOCK_LENGTH),
      request(1, 0),
      request(1, BLOCK_LENGTH),
      request(2, 0),
      request(2, BLOCK_LENGTH),
      request(3, 0, BLOCK_LENGTH / 2),
      request(5, 0),
      request(6, BLOCK_LENGTH),
    ];
    expect(groupRanges(group, pieceSize)).toEqual([
      { piece: 0, offset: BLOCK_LENGTH, length: 5 * BLOCK_LENGTH + BLOCK_LENGTH / 2 },
      { piece: 5, offset: 0, length: BLOCK_LENGTH },
      { piece: 6, offset: BLOCK_LENGTH, length: BLOCK_LENGTH },
    ]);
    // Without the piece size, a run ends with its piece (what readGroup does).
    expect(groupRanges(group)).toHaveLength(6);
  });

  it('takes the next queued requests in order, whatever their pieces', () => {
    const queue = new UploadQueue();
    const queued = [
      request(7, 0),
      request(2, BLOCK_LENGTH),
      request(2, 2 * BLOCK_LENGTH),
      request(0, 0),
    ];
    for (const r of queued) queue.push(r);
    expect(queue.take(3)).toEqual(queued.slice(0, 3));
    expect(queue.take(3)).toEqual(queued.slice(3));
    expect(queue.take(3)).toBeUndefined();
  });

  it('reads once per run of consecutive blocks and sends every block with its own bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.uniqueArray(fc.nat(15), { minLength: 1, maxLength: 12 }),
        async (blocksPerPiece, order) => {
          const queue = new UploadQueue();
          for (const block of order) {
            queue.push(
              request(Math.floor(block / blocksPerPiece), (block % blocksPerPiece) * BLOCK_LENGTH),
            );
          }
          const group = queue.take(order.length)!;
          expect(group).toHaveLength(order.length);
          const reads: string[] = [];
          const parts = await readGroup(async (piece, offset, length) => {
            reads.push(`${piece}/${offset}/${length}`);
            return Uint8Array.from({ length }, (_, i) => byteAt(piece, offset + i));
          }, group);
          // One read per run: a block starts a new run unless it follows the previous one.
          let runs = 0;
          group.forEach((r, i) => {
            const prev = group[i - 1];
            if (!prev || prev.index !== r.index || prev.begin + prev.length !== r.begin) runs++;
          });
          expect(reads).toHaveLength(runs);
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
