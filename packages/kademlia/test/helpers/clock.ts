import type { Clock, Random, Timer } from '@peerkit/transport';

/** A clock that only moves when the test says so; timers fire in order during `advance`. */
export class ManualClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void; every?: number }>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): Timer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, delayMs), fn: callback });
    return { cancel: () => void this.timers.delete(id) };
  }

  setInterval(callback: () => void, intervalMs: number): Timer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + intervalMs, fn: callback, every: intervalMs });
    return { cancel: () => void this.timers.delete(id) };
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in time order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      let nextId = -1;
      let nextAt = Number.POSITIVE_INFINITY;
      for (const [id, t] of this.timers) {
        if (t.at < nextAt || (t.at === nextAt && id < nextId)) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId < 0 || nextAt > end) break;
      const t = this.timers.get(nextId)!;
      this.time = Math.max(this.time, t.at);
      if (t.every !== undefined) t.at += t.every;
      else this.timers.delete(nextId);
      t.fn();
    }
    this.time = end;
  }
}

/** A small seeded generator (mulberry32) for deterministic tests. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    bytes(length: number) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
    int(maxExclusive: number) {
      return Math.floor(next() * maxExclusive);
    },
  };
}
