import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Prng } from '../src/index';

describe('Prng (xoshiro128**)', () => {
  it('matches the reference implementation from state [1, 2, 3, 4]', () => {
    // Outputs of the reference C code (prng.di.unimi.it/xoshiro128starstar.c) from s = {1,2,3,4};
    // the first three are checked by hand in the README's notes on the generator.
    const prng = Prng.fromState([1, 2, 3, 4]);
    const out = Array.from({ length: 6 }, () => prng.nextU32());
    expect(out).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('same seed, same stream; different seeds and derivations differ', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
        fc.integer({ min: 0, max: 1000 }),
        (seed, key) => {
          const a = new Prng(seed);
          const b = new Prng(seed);
          const xs = Array.from({ length: 8 }, () => a.nextU32());
          expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(xs);
          const c = new Prng(seed + 1 <= Number.MAX_SAFE_INTEGER ? seed + 1 : seed - 1);
          expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(xs);
          // derive() depends on the origin, not on how much was drawn.
          expect(a.derive(key).nextU32()).toBe(new Prng(seed).derive(key).nextU32());
          expect(new Prng(seed).derive(key).nextU32()).not.toBe(
            new Prng(seed).derive(key + 1).nextU32(),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('int(n) stays in range, including 1 and 2^32', () => {
    const prng = new Prng(7);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 32 }), (n) => {
        const v = prng.int(n);
        expect(Number.isInteger(v) && v >= 0 && v < n).toBe(true);
      }),
      { numRuns: 1000 },
    );
    expect(() => prng.int(0)).toThrow(RangeError);
    expect(() => prng.int(2 ** 32 + 1)).toThrow(RangeError);
    expect(() => prng.int(1.5)).toThrow(RangeError);
  });

  it('is uniform enough: chi-square over 16 buckets, and float() in [0, 1)', () => {
    const prng = new Prng(12345);
    const buckets = new Array<number>(16).fill(0);
    const n = 160_000;
    for (let i = 0; i < n; i++) {
      const k = prng.int(16);
      buckets[k] = (buckets[k] ?? 0) + 1;
    }
    const expected = n / 16;
    const chi2 = buckets.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
    // 15 degrees of freedom: P(chi2 > 37.7) = 0.001.
    expect(chi2).toBeLessThan(37.7);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const f = prng.float();
      if (!(f >= 0 && f < 1)) outside++;
      sum += f;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.005);
  });

  it('bytes(n) gives n bytes for every n, deterministically', () => {
    for (let n = 0; n < 40; n++) {
      expect(new Prng(3).bytes(n)).toEqual(new Prng(3).bytes(n));
      expect(new Prng(3).bytes(n).length).toBe(n);
    }
    expect(() => new Prng(3).bytes(-1)).toThrow(RangeError);
    expect(() => new Prng(0.5)).toThrow(RangeError);
  });
});
