/**
 * The simulator's seeded pseudo-random generator: xoshiro128** 1.1 (Blackman and Vigna,
 * "Scrambled linear pseudorandom number generators", 2018; https://prng.di.unimi.it/).
 *
 * - 128 bits of state in four 32-bit words, period 2^128 - 1, passes BigCrush; every step is a
 *   handful of 32-bit integer operations, which JavaScript does exactly (`Math.imul`, `>>>`).
 * - The state is filled from the seed with SplitMix32 (a 32-bit variant of SplitMix64's
 *   finaliser), as the xoshiro authors recommend, so that similar seeds give unrelated streams.
 * - `derive(...keys)` makes an independent generator for a sub-purpose (one per host and
 *   incarnation), so adding a host never shifts the numbers another host sees.
 *
 * Not cryptographic: a simulation needs reproducibility, not secrecy.
 */
import type { Random } from '@peerkit/transport';

const TWO_POW_32 = 4294967296;

/** One SplitMix32 step: returns [next state, output]. */
function splitMix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z ^= z >>> 15;
  return [next, z >>> 0];
}

/** Folds a seed (any safe integer; negative ones too) into one 32-bit word. */
function foldSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, got ${seed}`);
  }
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  return (lo ^ Math.imul(hi, 0x85ebca6b)) >>> 0;
}

export class Prng implements Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** The seed and keys this generator was made from (for `derive`). */
  private readonly origin: number;

  /** A generator for `seed` (a safe integer), optionally specialised by `keys`. */
  constructor(seed: number, ...keys: number[]) {
    let state = foldSeed(seed);
    for (const key of keys) {
      // Each key is mixed through a full SplitMix32 round so that (1, 2) and (2, 1) differ.
      const [, mixed] = splitMix32(state ^ Math.imul(key | 0, 0x27d4eb2f));
      state = mixed;
    }
    this.origin = state;
    let out: number;
    [state, out] = splitMix32(state);
    this.s0 = out;
    [state, out] = splitMix32(state);
    this.s1 = out;
    [state, out] = splitMix32(state);
    this.s2 = out;
    [, out] = splitMix32(state);
    this.s3 = out;
    // xoshiro's state must not be all zero; SplitMix32 never yields four zero words in a row
    // in practice, but guard anyway.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * A generator with the raw xoshiro128** state `[s0, s1, s2, s3]` (not all zero), bypassing
   * the seeding: for checking against the reference implementation's test vectors.
   */
  static fromState(state: readonly [number, number, number, number]): Prng {
    const prng = new Prng(0);
    [prng.s0, prng.s1, prng.s2, prng.s3] = state.map((w) => w | 0) as [
      number,
      number,
      number,
      number,
    ];
    if ((prng.s0 | prng.s1 | prng.s2 | prng.s3) === 0) throw new RangeError('all-zero state');
    return prng;
  }

  /** An independent generator derived from this one's origin and `keys` (not its position). */
  derive(...keys: number[]): Prng {
    return new Prng(this.origin, ...keys);
  }

  /** The next 32 random bits as an unsigned integer. */
  nextU32(): number {
    const s1 = this.s1;
    // result = rotl(s1 * 5, 7) * 9
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result >>> 0;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** True with probability `p` (0 and 1 consume no randomness). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  /** A uniform integer in [0, maxExclusive); `maxExclusive` is an integer in [1, 2^32]. */
  int(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > TWO_POW_32) {
      throw new RangeError(
        `int(maxExclusive): expected an integer in [1, 2^32], got ${maxExclusive}`,
      );
    }
    if (maxExclusive === TWO_POW_32) return this.nextU32();
    // Rejection sampling removes the modulo bias: accept only values below the largest
    // multiple of maxExclusive that fits in 32 bits.
    const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % maxExclusive;
    }
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0) {
      throw new RangeError(`bytes(length): expected a non-negative integer, got ${length}`);
    }
    const out = new Uint8Array(length);
    let i = 0;
    while (i + 4 <= length) {
      const r = this.nextU32();
      out[i] = r & 0xff;
      out[i + 1] = (r >>> 8) & 0xff;
      out[i + 2] = (r >>> 16) & 0xff;
      out[i + 3] = r >>> 24;
      i += 4;
    }
    if (i < length) {
      let r = this.nextU32();
      while (i < length) {
        out[i++] = r & 0xff;
        r >>>= 8;
      }
    }
    return out;
  }
}
