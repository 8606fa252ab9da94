/** The upload and download limiters, driven by a manual clock (no wall-clock assertions). */
import type { Address, Clock, Network, Stream, Timer } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { limitedNetwork, TokenBucket } from '../src/throttle';

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

/** A network whose one dialled stream yields `chunks` as fast as it is read. */
function fakeNetwork(clock: Clock, chunks: Uint8Array[]): Network {
  const address: Address = { host: '127.0.0.1', port: 1 };
  const stream = {
    localAddress: address,
    remoteAddress: address,
    closed: Promise.resolve(),
    write: async () => undefined,
    end: async () => undefined,
    destroy: () => undefined,
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  } as unknown as Stream;
  return {
    clock,
    random: { bytes: (n: number) => new Uint8Array(n), int: () => 0 },
    bindDatagram: () => Promise.reject(new Error('not used')),
    listen: () => Promise.reject(new Error('not used')),
    dial: async () => stream,
  } as unknown as Network;
}

describe('limitedNetwork (download)', () => {
  it('hands on what a stream reads no faster than the rate, across the bucket', async () => {
    const clock = new ManualClock();
    const chunks = Array.from({ length: 5 }, () => new Uint8Array(500));
    const network = limitedNetwork(fakeNetwork(clock, chunks), { download: 1000 });
    const stream = await network.dial({ host: '127.0.0.1', port: 1 });
    const times: number[] = [];
    const reading = (async () => {
      for await (const chunk of stream) times.push(chunk.length > 0 ? clock.now() : -1);
    })();
    await clock.advance(3000);
    await reading;
    expect(times).toEqual([0, 0, 500, 1000, 1500]);
  });

  it('without limits it is the network itself', () => {
    const network = fakeNetwork(new ManualClock(), []);
    expect(limitedNetwork(network, {})).toBe(network);
  });
});
