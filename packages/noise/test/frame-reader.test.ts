/**
 * The 2-byte big-endian length framing of Noise messages: round trip under any chunking, and
 * a total reader (arbitrary bytes give messages or TRUNCATED, never another exception).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameReader } from '../src/frame-reader';
import { isNoiseError } from '../src/index';
import { patternBytes } from '../src/testing';

function source(chunks: Uint8Array[]): AsyncIterator<Uint8Array> {
  let i = 0;
  return {
    next: async () =>
      i < chunks.length
        ? { done: false, value: chunks[i++] as Uint8Array }
        : { done: true, value: undefined },
  };
}

function cut(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let k = 0;
  for (let o = 0; o < bytes.length; ) {
    // At most 16 pieces: the last one takes the rest (keeps 1-byte cuts cheap).
    const n = out.length === 15 ? bytes.length - o : Math.max(1, sizes[k++ % sizes.length] ?? 1);
    out.push(bytes.subarray(o, o + n));
    o += n;
  }
  return out;
}

const arbMessage = fc.oneof(
  { weight: 9, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.nat().map((seed) => patternBytes(65535, seed)) },
);

describe('FrameReader', () => {
  it('returns every message, in order, however the bytes are chunked (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbMessage, { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 6 }),
        async (messages, sizes) => {
          const wire = Buffer.concat(messages.map(encodeFrame));
          const reader = new FrameReader(source(cut(wire, sizes)));
          for (const m of messages) {
            const got = await reader.readFrame();
            expect(got !== undefined && Buffer.compare(got, m) === 0).toBe(true);
          }
          expect(await reader.readFrame()).toBeUndefined();
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('is total: arbitrary bytes give messages, then the end or TRUNCATED (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 8 }),
        async (chunks) => {
          const reader = new FrameReader(source(chunks));
          const total = chunks.reduce((n, c) => n + c.length, 0);
          let consumed = 0;
          for (let i = 0; i <= total; i++) {
            try {
              const m = await reader.readFrame();
              if (m === undefined) break;
              consumed += 2 + m.length;
            } catch (e) {
              expect(isNoiseError(e, 'TRUNCATED')).toBe(true);
              expect(consumed).toBeLessThan(total);
              return;
            }
          }
          expect(consumed).toBe(total);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses to frame more than 65,535 bytes', () => {
    expect(() => encodeFrame(new Uint8Array(65536))).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }),
    );
  });
});
