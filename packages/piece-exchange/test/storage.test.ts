import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bitfield } from '../src/bitfield';
import { memoryFileSystem, nodeFileSystem } from '../src/storage/file-system';
import { FileLayout, type LayoutFileInput } from '../src/storage/layout';
import { PieceStore } from '../src/storage/piece-store';
import { decodeResume, encodeResume, loadResume, saveResume } from '../src/storage/resume';
import { StorageError } from '../src/storage/storage-error';

function content(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function hashes(data: Uint8Array, pieceLength: number): Uint8Array {
  const n = Math.ceil(data.length / pieceLength);
  const out = new Uint8Array(n * 20);
  for (let i = 0; i < n; i++) {
    out.set(
      createHash('sha1')
        .update(data.subarray(i * pieceLength, (i + 1) * pieceLength))
        .digest(),
      i * 20,
    );
  }
  return out;
}

const BLOCK = 16384;

describe('FileLayout', () => {
  it('maps every byte of every piece to exactly one file position', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ length: fc.nat(70_000), padding: fc.boolean() }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 0, max: 3 }),
        (files, shift) => {
          const inputs: LayoutFileInput[] = files.map((f, i) => ({ path: ['t', `f${i}`], ...f }));
          if (inputs.every((f) => f.length === 0)) inputs[0] = { path: ['t', 'x'], length: 1 };
          const layout = new FileLayout(inputs, BLOCK << shift);
          let covered = 0;
          for (let p = 0; p < layout.pieceCount; p++) {
            const size = layout.pieceSize(p);
            const segs = layout.segments(p, 0, size);
            let at = 0;
            for (const s of segs) {
              expect(s.at).toBe(at);
              const f = layout.files[s.file]!;
              expect(f.offset + s.position).toBe(p * layout.pieceLength + at);
              expect(s.position + s.length).toBeLessThanOrEqual(f.length);
              at += s.length;
            }
            expect(at).toBe(size);
            covered += size;
          }
          expect(covered).toBe(layout.totalLength);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses unsafe path elements', () => {
    expect(() => new FileLayout([{ path: ['..', 'etc'], length: 1 }], BLOCK)).toThrow(RangeError);
    expect(() => new FileLayout([{ path: ['a/b'], length: 1 }], BLOCK)).toThrow(RangeError);
  });
});

describe('PieceStore', () => {
  it('receiveBlock answers only for the block that completes its piece, and writes views of a larger buffer intact', async () => {
    const pieceLength = 4 * BLOCK;
    const data = content(2 * pieceLength, 7);
    const layout = new FileLayout([{ path: ['t', 'f'], length: data.length }], pieceLength);
    const fs = memoryFileSystem();
    const store = new PieceStore({
      fs,
      directory: '/d',
      layout,
      pieceHashes: hashes(data, pieceLength),
    });
    await store.prepare();
    // Each block a view into a buffer with bytes around it, as the socket's read buffers are.
    const framed = new Uint8Array(data.length + 2 * 13);
    framed.set(data, 13);
    const block = (p: number, o: number) =>
      framed.subarray(13 + p * pieceLength + o, 13 + p * pieceLength + o + BLOCK);
    for (const o of [BLOCK, 0, 3 * BLOCK])
      expect(store.receiveBlock(0, o, block(0, o))).toBeUndefined();
    const check = store.receiveBlock(0, 2 * BLOCK, block(0, 2 * BLOCK));
    expect(check).toBeInstanceOf(Promise);
    await expect(check).resolves.toEqual({ piece: 0, ok: true });
    // A corrupted block: the piece fails and is never written.
    for (const o of [0, BLOCK, 2 * BLOCK])
      expect(store.receiveBlock(1, o, block(1, o))).toBeUndefined();
    const bad = block(1, 3 * BLOCK).slice();
    bad[0] = bad[0]! ^ 1;
    await expect(store.receiveBlock(1, 3 * BLOCK, bad)).resolves.toEqual({ piece: 1, ok: false });
    await store.flush();
    const file = (await fs.readFile('/d/t/f'))!;
    expect(
      Buffer.from(file.subarray(0, pieceLength)).equals(Buffer.from(data.subarray(0, pieceLength))),
    ).toBe(true);
    expect(() => store.receiveBlock(2, 0, block(0, 0))).toThrow(StorageError);
    await store.close();
  });

  const files: LayoutFileInput[] = [
    { path: ['t', 'a.bin'], length: 40_000 },
    { path: ['t', 'pad'], length: 9_152, padding: true },
    { path: ['t', 'sub', 'b.bin'], length: 70_000 },
  ];
  const pieceLength = 2 * BLOCK;

  function torrent() {
    const layout = new FileLayout(files, pieceLength);
    const data = content(layout.totalLength, 7);
    data.fill(0, 40_000, 49_152); // the padding file is zeros
    return { layout, data, pieceHashes: hashes(data, pieceLength) };
  }

  it('writes blocks in any order, verifies each piece and reads it back (disk)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peerkit-store-'));
    try {
      const { layout, data, pieceHashes } = torrent();
      const store = new PieceStore({
        fs: nodeFileSystem(),
        directory: dir,
        layout,
        pieceHashes,
        maxOpenFiles: 1,
      });
      const blocks: Array<[number, number]> = [];
      for (let p = 0; p < layout.pieceCount; p++) {
        for (let o = 0; o < layout.pieceSize(p); o += BLOCK) blocks.push([p, o]);
      }
      blocks.reverse();
      const results = await Promise.all(
        blocks.map(([p, o]) => {
          const start = p * pieceLength + o;
          const len = Math.min(BLOCK, layout.pieceSize(p) - o);
          return store.writeBlock(p, o, data.slice(start, start + len));
        }),
      );
      const checks = results.filter((r) => r !== undefined);
      expect(checks.map((c) => c!.ok)).toEqual(Array(layout.pieceCount).fill(true));
      expect(store.openFiles).toBeLessThanOrEqual(1);
      await store.flush();
      const a = await readFile(join(dir, 't', 'a.bin'));
      const b = await readFile(join(dir, 't', 'sub', 'b.bin'));
      expect(Buffer.compare(a, Buffer.from(data.subarray(0, 40_000)))).toBe(0);
      expect(Buffer.compare(b, Buffer.from(data.subarray(49_152)))).toBe(0);
      const back = await store.readBlock(1, 0, BLOCK);
      expect(
        Buffer.from(back).equals(Buffer.from(data.subarray(pieceLength, pieceLength + BLOCK))),
      ).toBe(true);
      const recheck = await store.recheck();
      expect(recheck.complete).toBe(true);
      await store.close();
      await expect(store.readBlock(0, 0, 1)).rejects.toBeInstanceOf(StorageError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a corrupt block fails its piece; past the memory cap a piece is spilled and hashed from disk', async () => {
    const { layout, data, pieceHashes } = torrent();
    const fs = memoryFileSystem();
    const store = new PieceStore({ fs, directory: '/d', layout, pieceHashes, maxBufferedBytes: 0 });
    const bad = data.slice(0, BLOCK);
    bad[5]! ^= 1;
    await store.writeBlock(0, BLOCK, data.slice(BLOCK, 2 * BLOCK));
    expect(await store.writeBlock(0, 0, bad)).toEqual({ piece: 0, ok: false });
    await store.writeBlock(0, BLOCK, data.slice(BLOCK, 2 * BLOCK));
    expect(await store.writeBlock(0, 0, data.slice(0, BLOCK))).toEqual({ piece: 0, ok: true });
    expect(store.bufferedBytes).toBe(0);
    await store.close();
  });

  it('resume data round-trips and arbitrary bytes give a bitfield or INVALID_RESUME', () => {
    const infoHash = new Uint8Array(20).fill(3);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer(), (n, seed) => {
        const bits = new Bitfield(n);
        for (let i = 0; i < n; i++) if (((seed >>> (i % 31)) & 1) === 1) bits.set(i);
        const decoded = decodeResume(encodeResume(infoHash, bits), infoHash, n);
        expect(decoded.bytes).toEqual(bits.bytes);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.integer({ min: 1, max: 100 }),
        (bytes, n) => {
          try {
            decodeResume(bytes, infoHash, n);
          } catch (error) {
            expect(error).toBeInstanceOf(StorageError);
            expect((error as StorageError).code).toBe('INVALID_RESUME');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('readBlocks serves ranges across pieces, files and padding with the bytes of the torrent', async () => {
    const { layout, data, pieceHashes } = torrent();
    const fs = memoryFileSystem();
    const store = new PieceStore({ fs, directory: '/d', layout, pieceHashes });
    await store.prepare();
    for (let p = 0; p < layout.pieceCount; p++) {
      const start = p * pieceLength;
      for (let o = 0; o < layout.pieceSize(p); o += BLOCK) {
        const len = Math.min(BLOCK, layout.pieceSize(p) - o);
        await store.writeBlock(p, o, data.slice(start + o, start + o + len));
      }
    }
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ start: fc.nat(layout.totalLength - 1), length: fc.nat(3 * pieceLength) }),
          { minLength: 1, maxLength: 4 },
        ),
        async (wanted) => {
          const ranges = wanted.map(({ start, length }) => ({
            piece: Math.floor(start / pieceLength),
            offset: start % pieceLength,
            length: Math.max(1, Math.min(length, layout.totalLength - start)),
          }));
          const parts = await store.readBlocks(ranges);
          ranges.forEach((r, i) => {
            const start = r.piece * pieceLength + r.offset;
            expect(Buffer.from(parts[i]!).equals(data.subarray(start, start + r.length))).toBe(
              true,
            );
          });
        },
      ),
      { numRuns: 100 },
    );
    await expect(
      store.readBlocks([{ piece: layout.pieceCount - 1, offset: 0, length: pieceLength + 1 }]),
    ).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await store.close();
  });

  it('a crash at any moment never leaves resume data claiming unverified pieces', async () => {
    const { layout, data, pieceHashes } = torrent();
    const infoHash = new Uint8Array(20).fill(9);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant('save' as const), fc.nat(100)), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.nat(30),
        async (steps, crashAt) => {
          const fs = memoryFileSystem();
          const store = new PieceStore({ fs, directory: '/d', layout, pieceHashes });
          const verified = new Bitfield(layout.pieceCount);
          const written = new Set<string>();
          const saves: Promise<void>[] = [];
          for (const [i, step] of steps.entries()) {
            if (i === crashAt) break;
            if (step === 'save') {
              saves.push(saveResume(fs, '/d/resume', infoHash, verified, store));
              continue;
            }
            const p = step % layout.pieceCount;
            const o = (Math.floor(step / layout.pieceCount) % 2) * BLOCK;
            if (o >= layout.pieceSize(p) || written.has(`${p}:${o}`) || verified.has(p)) continue;
            written.add(`${p}:${o}`);
            const start = p * pieceLength + o;
            const len = Math.min(BLOCK, layout.pieceSize(p) - o);
            void store.writeBlock(p, o, data.slice(start, start + len)).then((check) => {
              if (check?.ok) verified.set(check.piece);
            });
          }
          // Crash: whatever was not synced is lost; saves in progress may or may not have landed.
          fs.crash();
          await store.abandon();
          await Promise.allSettled(saves);
          fs.crash();
          const resumed = await loadResume(fs, '/d/resume', infoHash, layout.pieceCount);
          if (resumed === undefined) return;
          const check = new PieceStore({ fs, directory: '/d', layout, pieceHashes });
          for (const p of resumed.indices()) expect(await check.verifyPiece(p)).toBe(true);
          await check.close();
        },
      ),
      { numRuns: 300 },
    );
  });
});
