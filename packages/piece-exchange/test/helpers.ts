import type { Random } from '@peerkit/transport';

/** A small seeded generator (xorshift32) implementing transport's `Random`, for unit tests. */
export function seededRandom(seed: number): Random {
  let x = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    bytes(length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = next() & 0xff;
      return out;
    },
    int(maxExclusive: number): number {
      return Math.floor((next() / 2 ** 32) * maxExclusive);
    },
  };
}

/** A `PieceSet` over a boolean array. */
export function pieceSet(bits: readonly boolean[]): { has(i: number): boolean } {
  return { has: (i: number) => bits[i] === true };
}
