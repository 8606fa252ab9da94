import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/index';

function manualClock() {
  let t = 0;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('RateLimiter (token bucket per key, GCRA form)', () => {
  it('allows a burst, then one token per interval', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(clock, 10, 3);
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([true, true, true, false]);
    expect(limiter.take('b')).toBe(true); // keys are independent
    clock.advance(100);
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
  });

  it('forgets buckets that refilled, and never holds more than maxKeys', () => {
    const clock = manualClock();
    const limiter = new RateLimiter<number>(clock, 10, 2, 100);
    for (let k = 0; k < 1000; k++) limiter.take(k);
    expect(limiter.size).toBeLessThanOrEqual(100);
    clock.advance(limiter.refillMs);
    limiter.sweep();
    expect(limiter.size).toBe(0);
  });

  it('matches a reference token bucket (model)', () => {
    fc.assert(
      fc.property(
        // Rates whose interval is a whole number of ms, so both sides compute exactly.
        fc.constantFrom(1, 2, 4, 5, 8, 10, 20, 25, 40, 50),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 60 }),
        (rate, burst, gaps) => {
          const clock = manualClock();
          const limiter = new RateLimiter(clock, rate, burst);
          // The reference counts thousandths of a token, in integers.
          let milli = burst * 1000;
          for (const gap of gaps) {
            clock.advance(gap);
            milli = Math.min(burst * 1000, milli + gap * rate);
            const expected = milli >= 1000;
            if (expected) milli -= 1000;
            expect(limiter.take('k')).toBe(expected);
          }
        },
      ),
    );
  });

  it('reserve: a byte budget never used faster than burst + rate x time (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 50_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 70_000 })), {
          maxLength: 80,
        }),
        (rate, burst, steps) => {
          const clock = manualClock();
          const limiter = new RateLimiter(clock, rate, burst);
          const uses: { at: number; tokens: number }[] = [];
          for (const [gap, tokens] of steps) {
            clock.advance(gap);
            const wait = limiter.reserve('k', tokens);
            expect(wait).toBeGreaterThanOrEqual(0);
            uses.push({ at: clock.now() + wait, tokens });
          }
          // Between the use at i and the use at j, no more than burst + rate x span are used
          // after i (a use larger than the bucket is paid for by the waits after it).
          for (let i = 0; i < uses.length; i++) {
            let sum = 0;
            for (let j = i + 1; j < uses.length; j++) {
              sum += uses[j]!.tokens;
              const span = uses[j]!.at - uses[i]!.at;
              expect(sum).toBeLessThanOrEqual(burst + (span * rate) / 1000 + 1e-6);
            }
          }
        },
      ),
    );
  });

  it('reserve: a full bucket serves up to burst at once, then waits for the refill', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(clock, 1000, 500);
    expect(limiter.reserve('k', 500)).toBe(0);
    expect(limiter.reserve('k', 100)).toBeCloseTo(100);
    clock.advance(100);
    expect(limiter.reserve('k', 100)).toBeCloseTo(100);
  });

  it('takes several tokens at once, a cost above the burst leaving the bucket in debt (model)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 4, 5, 8, 10, 20, 25, 40, 50),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 20 })), {
          maxLength: 60,
        }),
        (rate, burst, steps) => {
          const clock = manualClock();
          const limiter = new RateLimiter(clock, rate, burst);
          // The reference: thousandths of a token; it may go below zero (debt).
          let milli = burst * 1000;
          for (const [gap, cost] of steps) {
            clock.advance(gap);
            milli = Math.min(burst * 1000, milli + gap * rate);
            const expected = milli >= Math.min(cost, burst) * 1000;
            if (expected) milli -= cost * 1000;
            // waitMs says when the tokens will be there: now exactly when they are.
            expect(limiter.waitMs('k', cost) === 0).toBe(expected);
            expect(limiter.take('k', cost)).toBe(expected);
          }
        },
      ),
    );
  });

  it('waitMs is the time until a take succeeds, and takes nothing', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(clock, 100, 100); // 10 ms a token, one second of burst
    expect(limiter.take('k', 300)).toBe(true); // a full bucket lets 300 through: 200 in debt
    expect(limiter.waitMs('k', 1)).toBe(2010);
    expect(limiter.waitMs('k', 100)).toBe(3000);
    clock.advance(2009);
    expect(limiter.take('k')).toBe(false);
    clock.advance(1);
    expect(limiter.take('k')).toBe(true);
  });
});
