/**
 * The optimised structural scan must give exactly the verdict of the straightforward one
 * (test/scan-reference.ts) on any bytes, any range inside them and any limits.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { SCAN_OK, scanMsgpack } from '../src/codec/scan';
import { arbHostileMessage } from '../src/testing';
import { scanMsgpackReference } from './scan-reference';

const packr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false });

/** msgpack of nested JSON-like values (valid input), plus hostile bytes. */
const arbMsgpack = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((value) => Uint8Array.from(packr.pack(value))),
  arbHostileMessage(),
);

describe('scanMsgpack', () => {
  it('agrees with the reference scan on any bytes, range and limits', () => {
    fc.assert(
      fc.property(
        arbMsgpack,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 64 }),
        (bytes, a, b, maxDepth, maxValues) => {
          // Surround the bytes with junk so that a range that over-reads would be noticed.
          const padded = new Uint8Array(bytes.length + 8).fill(0xc1);
          padded.set(bytes, 4);
          const whole = [4, 4 + bytes.length];
          const cut = [a % (padded.length + 1), b % (padded.length + 1)].sort((x, y) => x - y);
          for (const [start, end] of [whole, cut] as [number, number][]) {
            const fast = scanMsgpack(padded, start, end, maxDepth, maxValues, new Int32Array(7));
            const reference = scanMsgpackReference(
              padded,
              start,
              end,
              maxDepth,
              maxValues,
              new Int32Array(8),
            );
            expect(fast).toBe(reference);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('accepts every msgpack value within its limits', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const bytes = packr.pack(value);
        expect(scanMsgpack(bytes, 0, bytes.length, 8, 100_000, new Int32Array(8))).toBe(SCAN_OK);
      }),
      { numRuns: 1000 },
    );
  });
});
