import { generateIdentity } from '@peerkit/noise';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvelopeCodec } from '../src/envelope';
import { HistoryStore } from '../src/history';
import { decodeHistory, encodeHistory } from '../src/history-file';
import { RateLimiter } from '../src/rate-limit';

const codec = new EnvelopeCodec();
const alice = generateIdentity();
const bob = generateIdentity();

describe('HistoryStore', () => {
  it('keeps the newest messages in order, without duplicates, whatever the arrival order', () => {
    const all = Array.from({ length: 30 }, (_, i) =>
      codec.signRoom(i % 2 ? alice : bob, { room: 'r', ts: 1000 + i, seq: i + 1, text: `m${i}` }),
    );
    fc.assert(
      fc.property(
        fc.shuffledSubarray(all, { minLength: 0 }),
        fc.array(fc.nat(29)),
        (order, dups) => {
          const store = new HistoryStore(10);
          for (const m of order) store.add(m);
          for (const d of dups) store.add(all[d]!);
          const kept = store.recent('r');
          const want = [...new Set([...order, ...dups.map((d) => all[d]!)])]
            .sort((a, b) => a.ts - b.ts)
            .slice(-10);
          expect(kept.map((m) => m.text)).toEqual(want.map((m) => m.text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('verifies every message on import: forged or foreign-room ones are counted and dropped', () => {
    const good = codec.signRoom(alice, { room: 'r', ts: 1, seq: 1, text: 'good' });
    const forged = {
      ...codec.signRoom(alice, { room: 'r', ts: 2, seq: 2, text: 'x' }),
      text: 'forged',
    };
    const other = codec.signRoom(bob, { room: 'elsewhere', ts: 3, seq: 1, text: 'other room' });
    const store = new HistoryStore();
    const result = store.import('r', [good, forged, other, good]);
    expect(result.added.map((m) => m.text)).toEqual(['good']);
    expect(result.rejected).toBe(2);
    expect(result.duplicates).toBe(1);
  });

  it('saves and loads through the history file format; damage loses only what is damaged', () => {
    const msgs = [1, 2, 3].map((i) =>
      codec.signRoom(alice, { room: 'r', ts: i, seq: i, text: `m${i}` }),
    );
    const bytes = encodeHistory(codec, msgs);
    expect(decodeHistory(codec, bytes, 200)).toEqual(msgs);
    expect(decodeHistory(codec, bytes.subarray(0, bytes.length - 3), 200)).toEqual(
      msgs.slice(0, 2),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        expect(Array.isArray(decodeHistory(codec, junk, 200))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate', () => {
    let now = 0;
    const limiter = new RateLimiter({ now: () => now }, 2, 5);
    const burst = Array.from({ length: 8 }, () => limiter.take('a')).filter(Boolean).length;
    expect(burst).toBe(5);
    expect(limiter.take('b')).toBe(true); // per key
    now += 1000;
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([true, true, false]);
  });
});
