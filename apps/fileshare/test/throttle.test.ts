/** The upload limiter, driven by a manual clock (no wall-clock assertions). */
import type { Clock, Timer } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../src/throttle';

/** A clock whose time only moves when the test says so. */
class ManualClock implements Clock {
  time = 0;
  private timers: { at: number; run: () => void; cancelled: boolean }[] = [];
  now(): number {
    return this.time;
  }
  setTimeout(run: () => void, delayMs: number): Timer {
    const t = { at: this.time + delayMs, run, cancelled: false };
    this.timers.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }
  setInterval(): Timer {
    throw new Error('not used');
  }
  /** Runs every timer due up to `ms` from now, in order, letting promises settle between. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      await new Promise((resolve) => setImmediate(resolve));
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= end)
        .sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.run();
    }
    this.time = end;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('TokenBucket', () => {
  it('lets one second of tokens through at once, then paces at the rate, in order', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, 1000);
    const finished: number[] = [];
    const order: number[] = [];
    for (let i = 0; i < 5; i++) {
      void bucket.take(500).then(() => {
        finished.push(clock.now());
        order.push(i);
      });
    }
    await clock.advance(0);
    expect(finished).toEqual([0, 0]);
    await clock.advance(2000);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(finished).toEqual([0, 0, 500, 1000, 1500]);
  });

  it('a write larger than the bucket waits for a full bucket and leaves it in debt', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, 100);
    const times: number[] = [];
    void bucket.take(300).then(() => times.push(clock.now()));
    void bucket.take(100).then(() => times.push(clock.now()));
    await clock.advance(5000);
    expect(times).toEqual([0, 3000]);
  });
});
