/**
 * The budgets a TorrentClient shares (src/client/throttle.ts), without sockets: the disk
 * budget never runs more than its limit at once and runs everything; a rate-limited stream
 * hands writes on in order, in parts of at most 16 KiB, no faster than burst + rate x time.
 */
import type { Address, Stream, TransportError } from '@peerkit/transport';
import { RateLimiter } from '@peerkit/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DiskBudget, RateLimitedStream } from '../src/client/throttle';

/** Virtual time: timers fire in order when `run` advances the clock. */
function virtualClock() {
  let now = 0;
  const timers: { at: number; f: () => void }[] = [];
  return {
    now: () => now,
    setTimeout(f: () => void, ms: number) {
      const timer = { at: now + ms, f };
      timers.push(timer);
      return { cancel: () => timers.splice(timers.indexOf(timer), 1) };
    },
    /** Runs until nothing is pending (microtasks between timers). */
    async run() {
      for (let i = 0; i < 100_000; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        if (timers.length === 0) return;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift()!;
        now = Math.max(now, next.at);
        next.f();
      }
      throw new Error('timers never ran out');
    },
  };
}

/** A stream that records what is written to it and when. */
function recordingStream(clock: { now(): number }) {
  const writes: { at: number; bytes: Uint8Array }[] = [];
  const address: Address = { host: '127.0.0.1', port: 1 };
  const stream: Stream = {
    localAddress: address,
    remoteAddress: address,
    write: async (bytes) => {
      writes.push({ at: clock.now(), bytes });
    },
    end: async () => undefined,
    destroy: () => undefined,
    closed: new Promise<TransportError | undefined>(() => undefined),
    [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
  };
  return { stream, writes };
}

describe('client budgets', () => {
  it('the disk budget runs every task, never more than its limit at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 30 }),
        async (limit, delays) => {
          const budget = new DiskBudget(limit);
          let active = 0;
          let most = 0;
          const done = await Promise.all(
            delays.map((d, i) =>
              budget.run(async () => {
                active++;
                most = Math.max(most, active);
                for (let k = 0; k < d; k++) await Promise.resolve();
                active--;
                return i;
              }),
            ),
          );
          expect(done).toEqual(delays.map((_, i) => i));
          expect(most).toBeLessThanOrEqual(limit);
          expect(budget.peak).toBeLessThanOrEqual(limit);
          expect(budget.active).toBe(0);
        },
      ),
    );
  });

  it('a rate-limited stream writes in order, in 16 KiB parts, at the rate', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 10_000, max: 1_000_000 }),
        async (sizes, rate) => {
          const clock = virtualClock();
          const burst = 16_384;
          const upload = new RateLimiter<number>(clock, rate, burst);
          const { stream, writes } = recordingStream(clock);
          const limited = new RateLimitedStream(stream, { clock, upload, download: undefined });
          const data = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
          const all = Promise.all(data.map((d) => limited.write(d)));
          await clock.run();
          await all;
          const sent = Buffer.concat(writes.map((w) => w.bytes));
          expect(Buffer.compare(sent, Buffer.concat(data))).toBe(0);
          for (const w of writes) expect(w.bytes.length).toBeLessThanOrEqual(16_384);
          // After any part, no more than burst + rate x time follows.
          for (let i = 0; i < writes.length; i++) {
            let sum = 0;
            for (let j = i + 1; j < writes.length; j++) {
              sum += writes[j]!.bytes.length;
              const span = writes[j]!.at - writes[i]!.at;
              expect(sum).toBeLessThanOrEqual(burst + (rate * span) / 1000 + 1e-6);
            }
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
