/**
 * Model-based test of `PieceStore` (fc.commands): blocks arrive in any order, some corrupt;
 * a piece reports ok exactly when all its blocks were right, verified pieces read back
 * exactly, and memory stays under its caps.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryFileSystem } from '../src/storage/file-system';
import { FileLayout } from '../src/storage/layout';
import { type PieceCheck, PieceStore } from '../src/storage/piece-store';
import { content } from './fixtures';

const BLOCK = 16_384;
const PIECE = 4 * BLOCK;
const FILES = [
  { path: ['t', 'a'], length: 3 * BLOCK + 100 },
  { path: ['t', 'b'], length: 2 * PIECE + 5 * BLOCK },
];
const layout = new FileLayout(FILES, PIECE);
const data = content(layout.totalLength, 99);
const hashes = new Uint8Array(layout.pieceCount * 20);
for (let p = 0; p < layout.pieceCount; p++) {
  hashes.set(
    createHash('sha1')
      .update(data.subarray(p * PIECE, (p + 1) * PIECE))
      .digest(),
    p * 20,
  );
}
const blocksOf = (p: number) => Math.ceil(layout.pieceSize(p) / BLOCK);

interface Model {
  /** Blocks received per piece not yet complete: block -> corrupt? */
  partial: Map<number, Map<number, boolean>>;
  verified: Set<number>;
}
interface Real {
  store: PieceStore;
  maxBuffered: number;
}
type Cmd = fc.AsyncCommand<Model, Real>;

class Write implements Cmd {
  constructor(
    readonly piece: number,
    readonly block: number,
    readonly corrupt: boolean,
  ) {}
  check(m: Readonly<Model>) {
    return (
      this.block < blocksOf(this.piece) &&
      !m.verified.has(this.piece) &&
      !(m.partial.get(this.piece)?.has(this.block) ?? false)
    );
  }
  async run(m: Model, r: Real) {
    const offset = this.block * BLOCK;
    const length = Math.min(BLOCK, layout.pieceSize(this.piece) - offset);
    const start = this.piece * PIECE + offset;
    const bytes = data.slice(start, start + length);
    if (this.corrupt) bytes[length - 1]! ^= 0xff;
    const blocks = m.partial.get(this.piece) ?? new Map<number, boolean>();
    m.partial.set(this.piece, blocks);
    blocks.set(this.block, this.corrupt);
    const result: PieceCheck | undefined = await r.store.writeBlock(this.piece, offset, bytes);
    expect(r.store.bufferedBytes).toBeLessThanOrEqual(r.maxBuffered + BLOCK);
    if (blocks.size < blocksOf(this.piece)) {
      expect(result).toBeUndefined();
      return;
    }
    const ok = [...blocks.values()].every((c) => !c);
    expect(result).toEqual({ piece: this.piece, ok });
    m.partial.delete(this.piece);
    if (ok) m.verified.add(this.piece);
  }
  toString() {
    return `Write(${this.piece}, ${this.block}${this.corrupt ? ', corrupt' : ''})`;
  }
}

class Discard implements Cmd {
  constructor(readonly piece: number) {}
  check(m: Readonly<Model>) {
    return m.partial.has(this.piece);
  }
  async run(m: Model, r: Real) {
    r.store.discardPiece(this.piece);
    m.partial.delete(this.piece);
  }
  toString() {
    return `Discard(${this.piece})`;
  }
}

class ReadBack implements Cmd {
  constructor(readonly choice: number) {}
  check(m: Readonly<Model>) {
    return m.verified.size > 0;
  }
  async run(m: Model, r: Real) {
    const list = [...m.verified].sort();
    const piece = list[this.choice % list.length]!;
    const size = layout.pieceSize(piece);
    const back = await r.store.readBlock(piece, 0, size);
    expect(
      Buffer.from(back).equals(Buffer.from(data.subarray(piece * PIECE, piece * PIECE + size))),
    ).toBe(true);
    expect(await r.store.verifyPiece(piece)).toBe(true);
  }
  toString() {
    return `ReadBack(${this.choice})`;
  }
}

const piece = fc.nat(layout.pieceCount - 1);
const commands = fc.commands(
  [
    fc.tuple(piece, fc.nat(3), fc.boolean()).map(([p, b, c]) => new Write(p, b, c)),
    fc.tuple(piece, fc.nat(3)).map(([p, b]) => new Write(p, b, false)),
    fc.tuple(piece, fc.nat(3)).map(([p, b]) => new Write(p, b, false)),
    piece.map((p) => new Discard(p)),
    fc.nat().map((c) => new ReadBack(c)),
  ],
  { maxCommands: 40 },
);

describe('PieceStore model', () => {
  it('verifies each piece exactly when its blocks were right, within its memory caps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 2 * BLOCK, 1 << 24),
        commands,
        async (maxBuffered, cmds) => {
          const store = new PieceStore({
            fs: memoryFileSystem(),
            directory: '/d',
            layout,
            pieceHashes: hashes,
            maxBufferedBytes: maxBuffered,
            maxOpenFiles: 1,
          });
          await fc.asyncModelRun(
            () => ({
              model: { partial: new Map(), verified: new Set<number>() },
              real: { store, maxBuffered },
            }),
            cmds,
          );
          await store.close();
        },
      ),
      { numRuns: 300 },
    );
  });
});
