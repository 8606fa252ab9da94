/**
 * Write batching (issue #22): ranges queued while a write to the file is in flight go in the next
 * round, adjacent ones as one gathered write; every byte lands where it was asked, whatever the
 * order of the writes, and a failed round fails its writers and those queued behind it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StorageFile } from '../src/storage/file-system';
import { WriteBatches } from '../src/storage/write-batch';

/** A file in memory that counts its system calls; each call completes when `release` runs. */
function memoryFile(size: number) {
  const bytes = new Uint8Array(size);
  const calls: { position: number; length: number; buffers: number }[] = [];
  let fail = false;
  const write = async (buffers: readonly Uint8Array[], position: number) => {
    await new Promise((r) => setImmediate(r));
    if (fail) {
      fail = false;
      throw new Error('disk full');
    }
    let at = position;
    for (const b of buffers) {
      bytes.set(b, at);
      at += b.length;
    }
    calls.push({ position, length: at - position, buffers: buffers.length });
  };
  const file = {
    write: (data: Uint8Array, position: number) => write([data], position),
    writev: (buffers: readonly Uint8Array[], position: number) => write(buffers, position),
  } as unknown as StorageFile;
  return {
    bytes,
    calls,
    file,
    failNext: () => {
      fail = true;
    },
  };
}

describe('WriteBatches', () => {
  it('merges adjacent ranges queued behind a write into one gathered write', async () => {
    const m = memoryFile(64);
    let rounds = 0;
    const batches = new WriteBatches({
      withFile: (_i, fn) => fn(m.file),
      written: async () => {
        rounds++;
      },
    });
    const block = (v: number) => new Uint8Array(8).fill(v);
    const first = batches.write(0, 0, [block(1)]);
    // Queued while the first is in flight, out of order: one round, one writev of 3 ranges.
    const rest = [
      batches.write(0, 24, [block(4)]),
      batches.write(0, 8, [block(2)]),
      batches.write(0, 16, [block(3)]),
      batches.write(0, 48, [block(7)]),
    ];
    await Promise.all([first, ...rest]);
    expect(m.calls).toEqual([
      { position: 0, length: 8, buffers: 1 },
      { position: 8, length: 24, buffers: 3 },
      { position: 48, length: 8, buffers: 1 },
    ]);
    expect(rounds).toBe(2);
    expect([...m.bytes.subarray(0, 32)]).toEqual([1, 2, 3, 4].flatMap((v) => new Array(8).fill(v)));
  });

  it('puts every byte where it was asked, in any order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray([...Array(16).keys()], { minLength: 1 }),
        async (slots) => {
          const m = memoryFile(16 * 4);
          const batches = new WriteBatches({
            withFile: (_i, fn) => fn(m.file),
            written: async () => undefined,
          });
          await Promise.all(
            slots.map((s) => batches.write(0, s * 4, [new Uint8Array(4).fill(s + 1)])),
          );
          for (let s = 0; s < 16; s++) {
            const expected = slots.includes(s) ? s + 1 : 0;
            expect([...m.bytes.subarray(s * 4, s * 4 + 4)]).toEqual(new Array(4).fill(expected));
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('fails the writers of a failed round and those queued behind it; later writes still run', async () => {
    const m = memoryFile(32);
    const batches = new WriteBatches({
      withFile: (_i, fn) => fn(m.file),
      written: async () => undefined,
    });
    m.failNext();
    const failed = batches.write(0, 0, [new Uint8Array(8).fill(1)]);
    const queued = batches.write(0, 8, [new Uint8Array(8).fill(2)]);
    await expect(failed).rejects.toThrow('disk full');
    // Queued behind the failed round: failed with it, as a concurrent write would have.
    await expect(queued).rejects.toThrow('disk full');
    await batches.write(0, 8, [new Uint8Array(8).fill(2)]);
    expect(m.bytes[0]).toBe(0);
    expect(m.bytes[8]).toBe(2);
  });
});
