import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressBook, BanList } from '../src/p2p/address-book';
import { arbTimedNetAddress } from '../src/testing/p2p-arbitraries';

describe('AddressBook (bounded addr gossip)', () => {
  it('never holds more than its capacity, keeps the freshest, reports only new entries', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.array(arbTimedNetAddress(), { maxLength: 15 }), { maxLength: 10 }),
        (capacity, batches) => {
          const book = new AddressBook({ capacity });
          const seen = new Set<string>();
          for (const batch of batches) {
            const fresh = book.add(batch);
            for (const a of fresh) {
              const key = `${a.host}|${a.port}`;
              expect(seen.has(key)).toBe(false);
              seen.add(key);
            }
            expect(book.size).toBeLessThanOrEqual(capacity);
          }
          const sample = book.sample(1000, (n) => n - 1);
          expect(sample.length).toBe(book.size);
          expect(sample.every((a) => a.port !== 0)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('BanList', () => {
  it('bans until the given time', () => {
    const bans = new BanList();
    bans.ban('10.0.0.1', 1000);
    expect(bans.isBanned('10.0.0.1', 999)).toBe(true);
    expect(bans.isBanned('10.0.0.2', 999)).toBe(false);
    expect(bans.isBanned('10.0.0.1', 1000)).toBe(false);
    expect(bans.list(0)).toEqual([]);
  });
});
