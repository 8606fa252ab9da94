import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PEER_TTL_MS, Store, TokenManager } from '../src/index';
import { ManualClock, seededRandom } from './helpers/clock';

const hash = (n: number) => {
  const h = new Uint8Array(20);
  h[0] = n >> 8;
  h[1] = n & 0xff;
  return h;
};

describe('Store (peers and items with limits)', () => {
  it('keeps peers 30 minutes', () => {
    const clock = new ManualClock();
    const store = new Store(clock);
    store.addPeer(hash(1), { host: '1.2.3.4', port: 80 });
    clock.advance(PEER_TTL_MS);
    expect(store.getPeers(hash(1))).toEqual([{ host: '1.2.3.4', port: 80 }]);
    clock.advance(1);
    expect(store.getPeers(hash(1))).toEqual([]);
    expect(store.infoHashCount).toBe(0);
  });

  it('never exceeds its limits under any sequence of announces and puts (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('peer' as const),
              h: fc.nat(30),
              port: fc.integer({ min: 1, max: 40 }),
            }),
            fc.record({
              kind: fc.constant('item' as const),
              h: fc.nat(30),
              size: fc.integer({ min: 1, max: 300 }),
            }),
            fc.record({
              kind: fc.constant('time' as const),
              ms: fc.integer({ min: 0, max: 40 * 60_000 }),
            }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const clock = new ManualClock();
          const limits = {
            maxInfoHashes: 5,
            maxPeersPerInfoHash: 4,
            maxItems: 6,
            maxItemBytes: 1000,
          };
          const store = new Store(clock, limits);
          for (const op of ops) {
            if (op.kind === 'peer') store.addPeer(hash(op.h), { host: '10.0.0.1', port: op.port });
            else if (op.kind === 'item') store.putItem(hash(op.h), { v: new Uint8Array(op.size) });
            else clock.advance(op.ms);
            expect(store.infoHashCount).toBeLessThanOrEqual(limits.maxInfoHashes);
            expect(store.peersStored).toBeLessThanOrEqual(
              limits.maxInfoHashes * limits.maxPeersPerInfoHash,
            );
            expect(store.itemCount).toBeLessThanOrEqual(limits.maxItems);
            expect(store.itemBytes).toBeLessThanOrEqual(limits.maxItemBytes);
            for (let h = 0; h <= 30; h++) {
              expect(store.getPeers(hash(h), 100).length).toBeLessThanOrEqual(
                limits.maxPeersPerInfoHash,
              );
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('makes room for a new peer by dropping the least recently announced one', () => {
    const clock = new ManualClock();
    const store = new Store(clock, { maxPeersPerInfoHash: 2 });
    for (const port of [1, 2, 1, 3]) store.addPeer(hash(0), { host: '10.0.0.1', port });
    expect(
      store
        .getPeers(hash(0))
        .map((p) => p.port)
        .sort(),
    ).toEqual([1, 3]);
  });
});

describe('TokenManager (BEP 5 tokens)', () => {
  it('accepts a token for 5-10 minutes, only from the IP it was given to', () => {
    const clock = new ManualClock();
    const tokens = new TokenManager(clock, seededRandom(3));
    const t = tokens.issue('1.2.3.4');
    expect(tokens.verify(t, '1.2.3.4')).toBe(true);
    expect(tokens.verify(t, '1.2.3.5')).toBe(false);
    clock.advance(9 * 60_000);
    expect(tokens.verify(t, '1.2.3.4')).toBe(true);
    clock.advance(60_000);
    expect(tokens.verify(t, '1.2.3.4')).toBe(false);
    const late = tokens.issue('::1');
    clock.advance(4 * 60_000);
    expect(tokens.verify(late, '::1')).toBe(true);
    clock.advance(60 * 60_000);
    expect(tokens.verify(late, '::1')).toBe(false);
  });
});
