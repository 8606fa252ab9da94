import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Clock,
  createSystemClock,
  cryptoRandom,
  isTransportError,
  sleep,
  systemClock,
  type Timer,
  withTimeout,
} from '../src/index';

/** A clock that only moves when told to: for testing `sleep`/`withTimeout` without real time. */
class ManualClock implements Clock {
  #now = 0;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #next = 0;

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delayMs: number): Timer {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + delayMs, callback });
    return { cancel: () => this.#timers.delete(id) };
  }

  setInterval(): Timer {
    throw new Error('not needed here');
  }

  get pending(): number {
    return this.#timers.size;
  }

  async advance(ms: number): Promise<void> {
    this.#now += ms;
    for (const [id, timer] of [...this.#timers]) {
      if (timer.at <= this.#now) {
        this.#timers.delete(id);
        timer.callback();
      }
    }
    await Promise.resolve();
  }
}

async function state(promise: Promise<unknown>): Promise<string> {
  const marker = {};
  const winner = await Promise.race([
    promise.then(
      () => 'resolved',
      () => 'rejected',
    ),
    Promise.resolve(marker).then((m) => m),
  ]);
  return winner === marker ? 'pending' : (winner as string);
}

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never goes back', () => {
    let last = systemClock.now();
    for (let i = 0; i < 10_000; i++) {
      const now = systemClock.now();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
  });

  it('fires a timeout once, and not after cancel', () => {
    vi.useFakeTimers();
    const clock = createSystemClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('a'), 10);
    const b = clock.setTimeout(() => fired.push('b'), 10);
    b.cancel();
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['a']);
  });

  it('repeats an interval until cancelled', () => {
    vi.useFakeTimers();
    const clock = createSystemClock();
    let ticks = 0;
    const timer = clock.setInterval(() => ticks++, 10);
    vi.advanceTimersByTime(35);
    timer.cancel();
    vi.advanceTimersByTime(100);
    expect(ticks).toBe(3);
    expect(() => clock.setInterval(() => {}, 0)).toThrow(RangeError);
  });

  it('waits delays longer than Node timers allow (2^31 - 1 ms) instead of firing at once', () => {
    vi.useFakeTimers();
    const clock = createSystemClock();
    let fired = false;
    clock.setTimeout(() => {
      fired = true;
    }, 2 ** 32);
    vi.advanceTimersByTime(2 ** 31);
    expect(fired).toBe(false);
    vi.advanceTimersByTime(2 ** 31);
    expect(fired).toBe(true);
  });

  it('unref: timers do not keep the process alive', () => {
    const count = () => process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;
    const before = count();
    const refd = createSystemClock().setTimeout(() => {}, 60_000);
    expect(count()).toBe(before + 1);
    const unrefd = createSystemClock({ unref: true }).setTimeout(() => {}, 60_000);
    expect(count()).toBe(before + 1);
    refd.cancel();
    unrefd.cancel();
    expect(count()).toBe(before);
  });

  it('rejects a NaN delay', () => {
    expect(() => systemClock.setTimeout(() => {}, Number.NaN)).toThrow(RangeError);
  });
});

describe('sleep and withTimeout (on any Clock)', () => {
  it('sleep resolves after the delay, in clock time', async () => {
    const clock = new ManualClock();
    const slept = sleep(clock, 100);
    await clock.advance(99);
    expect(await state(slept)).toBe('pending');
    await clock.advance(1);
    expect(await state(slept)).toBe('resolved');
  });

  it('sleep rejects with ABORTED and cancels its timer', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const slept = sleep(clock, 100, controller.signal);
    controller.abort();
    await expect(slept).rejects.toSatisfy((e: unknown) => isTransportError(e, 'ABORTED'));
    expect(clock.pending).toBe(0);
    await expect(sleep(clock, 1, controller.signal)).rejects.toSatisfy((e: unknown) =>
      isTransportError(e, 'ABORTED'),
    );
  });

  it('withTimeout passes the value through and cancels its timer', async () => {
    const clock = new ManualClock();
    expect(await withTimeout(clock, Promise.resolve(7), 100)).toBe(7);
    expect(clock.pending).toBe(0);
    const failure = new Error('inner');
    await expect(withTimeout(clock, Promise.reject(failure), 100)).rejects.toBe(failure);
    expect(clock.pending).toBe(0);
  });

  it('withTimeout rejects with TIMEOUT once the clock passes the limit', async () => {
    const clock = new ManualClock();
    const never = new Promise<never>(() => {});
    const limited = withTimeout(clock, never, 100, 'handshake');
    await clock.advance(100);
    await expect(limited).rejects.toSatisfy(
      (e: unknown) => isTransportError(e, 'TIMEOUT') && /handshake/.test((e as Error).message),
    );
  });
});

describe('cryptoRandom', () => {
  it('gives plain Uint8Arrays of the asked length', () => {
    for (const n of [0, 1, 20, 70_000]) {
      const bytes = cryptoRandom.bytes(n);
      expect(bytes.constructor).toBe(Uint8Array);
      expect(bytes.length).toBe(n);
    }
    expect(cryptoRandom.bytes(32)).not.toEqual(cryptoRandom.bytes(32));
  });

  it('draws integers in [0, max), every value reachable', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1_000; i++) {
      const v = cryptoRandom.int(10);
      expect(Number.isInteger(v) && v >= 0 && v < 10).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(10);
    expect(cryptoRandom.int(1)).toBe(0);
    const big = cryptoRandom.int(2 ** 32);
    expect(big >= 0 && big < 2 ** 32).toBe(true);
  });

  it('rejects bad arguments with RangeError', () => {
    expect(() => cryptoRandom.int(0)).toThrow(RangeError);
    expect(() => cryptoRandom.int(2 ** 32 + 1)).toThrow(RangeError);
    expect(() => cryptoRandom.int(1.5)).toThrow(RangeError);
    expect(() => cryptoRandom.bytes(-1)).toThrow(RangeError);
  });
});
