/**
 * Differential tests against an independent implementation, the npm `bencode` package
 * (dev dependency). It only handles the common ground: ASCII keys that are not special to JS
 * objects (it decodes into `{}`, where `__proto__` would set the prototype) and safe integers.
 */
import npmBencode from 'bencode';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BencodeValue, decode, encode } from '../src/index';
import { arbBencodeValue, bencodeEquals } from '../src/testing';

const asciiKey = fc
  .string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 10,
  })
  .filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k));
const common = arbBencodeValue({ key: asciiKey, integer: fc.maxSafeInteger() });

/** npm bencode's decoded form → ours (plain objects → null-prototype dicts). */
function fromNpm(v: unknown): BencodeValue {
  if (typeof v === 'number' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(fromNpm);
  const out: Record<string, BencodeValue> = Object.create(null);
  for (const [k, x] of Object.entries(v as object)) out[k] = fromNpm(x);
  return out;
}

describe('against npm bencode 4.0.1', () => {
  it('encodes to the same bytes', () => {
    fc.assert(
      fc.property(common, (v) => {
        expect(Buffer.from(encode(v)).equals(npmBencode.encode(v))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('decodes canonical input to the same value', () => {
    fc.assert(
      fc.property(common, (v) => {
        const bytes = encode(v);
        expect(bencodeEquals(decode(bytes), fromNpm(npmBencode.decode(bytes)))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
