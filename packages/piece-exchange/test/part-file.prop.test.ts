/**
 * Properties of part files (src/storage/part-file.ts) with the piece store: for any file sizes,
 * piece length and selection, writing every wanted piece (the pieces touching a selected file)
 * leaves exactly the selected files in the user's tree with their bytes, every written piece
 * reads back whole (the unselected files' shared bytes from the part files, each at most two
 * pieces long), and a file selected afterwards (`unpark`) gets the kept bytes at their place.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FilePriority, piecePriorities } from '../src/file-priorities';
import { memoryFileSystem } from '../src/storage/file-system';
import { FileLayout } from '../src/storage/layout';
import { PartFiles, partRegion } from '../src/storage/part-file';
import { PieceStore } from '../src/storage/piece-store';
import { content } from './fixtures';

const BLOCK = 16_384;

describe('part files', () => {
  it('keep unselected bytes out of the tree and give them back when selected', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 * BLOCK }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(BLOCK, 2 * BLOCK),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.nat(),
        async (sizes, pieceLength, chosen, pick) => {
          if (sizes.reduce((a, b) => a + b, 0) === 0) sizes[0] = 1;
          const files = sizes.map((length, i) => ({ path: ['t', `f${i}`], length }));
          const layout = new FileLayout(files, pieceLength);
          const data = content(layout.totalLength, sizes.length);
          const hashes = new Uint8Array(layout.pieceCount * 20);
          for (let p = 0; p < layout.pieceCount; p++) {
            const piece = data.subarray(p * pieceLength, p * pieceLength + layout.pieceSize(p));
            hashes.set(createHash('sha1').update(piece).digest(), p * 20);
          }
          const priorities = sizes.map((_, i): FilePriority => (chosen[i] ? 'normal' : 'skip'));
          const fs = memoryFileSystem();
          const parts = new PartFiles(fs, '/d/.peerkit/x.parts', layout, '/d');
          for (const [i, p] of priorities.entries()) if (p === 'skip') parts.park(i);
          const store = new PieceStore({ fs, directory: '/d', layout, pieceHashes: hashes, parts });
          await store.prepare();
          const wanted = piecePriorities(layout, priorities);
          const written = new Set<number>();
          for (let p = 0; p < layout.pieceCount; p++) {
            if (wanted[p] === 0) continue;
            const start = p * pieceLength;
            const check = await store.writeBlock(
              p,
              0,
              data.slice(start, start + layout.pieceSize(p)),
            );
            expect(check).toEqual({ piece: p, ok: true });
            written.add(p);
          }
          await store.flush();
          for (const [i, f] of layout.files.entries()) {
            const onDisk = fs.snapshot(`/d/t/f${i}`);
            if (priorities[i] === 'skip') {
              expect(onDisk).toBeUndefined();
              const part = fs.snapshot(parts.pathOf(i));
              if (part !== undefined) expect(part.length).toBeLessThanOrEqual(2 * pieceLength);
            } else {
              expect(
                Buffer.from(onDisk!).equals(
                  Buffer.from(data.subarray(f.offset, f.offset + f.length)),
                ),
              ).toBe(true);
            }
          }
          for (const p of written) {
            const back = await store.readBlock(p, 0, layout.pieceSize(p));
            const start = p * pieceLength;
            expect(
              Buffer.from(back).equals(Buffer.from(data.subarray(start, start + back.length))),
            ).toBe(true);
          }
          // Select one skipped file: it appears with the bytes of the pieces already verified.
          const skipped = priorities.flatMap((p, i) => (p === 'skip' ? [i] : []));
          if (skipped.length > 0) {
            const i = skipped[pick % skipped.length]!;
            const f = layout.files[i]!;
            await store.unpark(i, (p) => written.has(p));
            const onDisk = fs.snapshot(`/d/t/f${i}`)!;
            expect(onDisk).toBeDefined();
            for (const p of written) {
              for (const s of layout.segments(p, 0, layout.pieceSize(p))) {
                if (s.file !== i) continue;
                const got = onDisk.subarray(s.position, s.position + s.length);
                const want = data.subarray(f.offset + s.position, f.offset + s.position + s.length);
                expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
              }
            }
            const r = partRegion(layout, i);
            expect(r.partLength).toBeLessThanOrEqual(Math.min(f.length, 2 * pieceLength));
          }
          await store.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
