/** fast-check arbitraries for secure-channel properties. */
import fc from 'fast-check';
import type { FrameTamper } from './interceptors';

/** `length` bytes of a cheap deterministic pattern (large payloads without generating them). */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A payload as an application writes it: mostly small, sometimes empty, sometimes larger than
 * one Noise message (65,519 plaintext bytes) so that it must be split.
 */
export function arbPayload(options: { maxLarge?: number } = {}): fc.Arbitrary<Uint8Array> {
  const maxLarge = options.maxLarge ?? 200_000;
  return fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 3, arbitrary: fc.uint8Array({ minLength: 64, maxLength: 6000 }) },
    {
      weight: 1,
      arbitrary: fc
        .record({ length: fc.integer({ min: 60_000, max: maxLarge }), seed: fc.nat() })
        .map(({ length, seed }) => patternBytes(length, seed)),
    },
  );
}

/** A sequence of writes. */
export function arbPayloadSequence(
  options: { maxLength?: number; maxLarge?: number } = {},
): fc.Arbitrary<Uint8Array[]> {
  return fc.array(arbPayload(options), { maxLength: options.maxLength ?? 12 });
}

/** Chunk sizes the network cuts the byte stream into (1 byte up to beyond a message). */
export function arbChunkSizes(): fc.Arbitrary<number[]> {
  return fc.array(
    fc.oneof(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 140_000 }),
    ),
    { minLength: 1, maxLength: 8 },
  );
}

/** A 32-byte key or scalar. */
export function arbKey32(): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: 32, maxLength: 32 });
}

/**
 * A frame tamper among `frames` frames, never touching the last one (an end marker after which
 * the reader stops): duplicate, swap with the next, or replay an earlier frame later.
 */
export function arbFrameTamper(frames: number): fc.Arbitrary<FrameTamper> {
  const last = Math.max(0, frames - 2);
  const kinds: fc.Arbitrary<FrameTamper>[] = [
    fc.integer({ min: 0, max: last }).map((index) => ({ kind: 'duplicate' as const, index })),
    fc.integer({ min: 0, max: last }).map((index) => ({ kind: 'swap' as const, index })),
  ];
  if (last >= 1) {
    kinds.push(
      fc
        .tuple(fc.integer({ min: 0, max: last }), fc.integer({ min: 0, max: last }))
        .filter(([x, y]) => x !== y)
        .map(([x, y]) => ({
          kind: 'replay' as const,
          index: Math.min(x, y),
          later: Math.max(x, y),
        })),
    );
  }
  return fc.oneof(...kinds);
}
