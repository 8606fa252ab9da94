import type { Clock, Random, Timer } from '@peerkit/transport';

/** A clock that only moves when the test says so. */
export class ManualClock implements Clock {
  #now = 0;
  #timers: { at: number; every: number; fn: () => void; live: boolean }[] = [];
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, delayMs: number): Timer {
    const t = { at: this.#now + delayMs, every: 0, fn, live: true };
    this.#timers.push(t);
    return {
      cancel: () => {
        t.live = false;
      },
    };
  }
  setInterval(fn: () => void, intervalMs: number): Timer {
    const t = { at: this.#now + intervalMs, every: intervalMs, fn, live: true };
    this.#timers.push(t);
    return {
      cancel: () => {
        t.live = false;
      },
    };
  }
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#now = due.at;
      if (due.every > 0) due.at += due.every;
      else due.live = false;
      due.fn();
    }
    this.#now = end;
  }
}

/** A deterministic Random (xorshift) for unit tests. */
export function counterRandom(seed = 1): Random {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    bytes: (n) => Uint8Array.from({ length: n }, () => next() & 0xff),
    int: (max) => next() % max,
  };
}
