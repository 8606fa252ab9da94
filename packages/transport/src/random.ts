/** `Random` from node:crypto: unpredictable, for real networks (netsim brings a seeded one). */
import { randomFillSync, randomInt } from 'node:crypto';
import type { Random } from './interfaces';

const MAX_INT_RANGE = 2 ** 32;

export const cryptoRandom: Random = {
  bytes(length: number): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`length must be a non-negative integer, got ${length}`);
    }
    return randomFillSync(new Uint8Array(length));
  },

  int(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > MAX_INT_RANGE) {
      throw new RangeError(`maxExclusive must be an integer in [1, 2^32], got ${maxExclusive}`);
    }
    return randomInt(maxExclusive);
  },
};
