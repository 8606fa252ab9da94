/** A `Clock` whose time only moves when a test calls `advance()`. */
import type { Clock, Timer } from '@peerkit/transport';

interface Scheduled {
  at: number;
  seq: number;
  interval: number;
  callback: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: Scheduled[] = [];

  now(): number {
    return this.#now;
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  setTimeout(callback: () => void, delayMs: number): Timer {
    return this.#schedule(callback, Math.max(0, delayMs), 0);
  }

  setInterval(callback: () => void, intervalMs: number): Timer {
    return this.#schedule(callback, intervalMs, Math.max(1, intervalMs));
  }

  #schedule(callback: () => void, delay: number, interval: number): Timer {
    const t: Scheduled = {
      at: this.#now + delay,
      seq: this.#seq++,
      interval,
      callback,
      cancelled: false,
    };
    this.#timers.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }

  /** Moves time forward by `ms`, firing due timers in time order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      let next: Scheduled | undefined;
      for (const t of this.#timers) {
        if (
          t.at <= until &&
          (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))
        ) {
          next = t;
        }
      }
      if (next === undefined) break;
      this.#now = next.at;
      if (next.interval > 0) next.at += next.interval;
      else next.cancelled = true;
      next.callback();
    }
    this.#now = until;
  }
}
