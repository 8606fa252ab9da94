import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isChatError } from '../src/errors';
import {
  base32Decode,
  base32Encode,
  formatPeerId,
  isPeerId,
  PEER_ID_LENGTH,
  parsePeerId,
  shortPeerId,
} from '../src/peer-id';

describe('peer ids', () => {
  it('base32 matches RFC 4648 section 10 (lowercase, unpadded)', () => {
    const cases: [string, string][] = [
      ['', ''],
      ['f', 'my'],
      ['fo', 'mzxq'],
      ['foo', 'mzxw6'],
      ['foob', 'mzxw6yq'],
      ['fooba', 'mzxw6ytb'],
      ['foobar', 'mzxw6ytboi'],
    ];
    for (const [plain, encoded] of cases) {
      expect(base32Encode(new TextEncoder().encode(plain))).toBe(encoded);
      expect(new TextDecoder().decode(base32Decode(encoded))).toBe(plain);
    }
  });

  it('round-trips every key, and any text parses to a key or BAD_PEER_ID', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        const id = formatPeerId(key);
        expect(id).toHaveLength(PEER_ID_LENGTH);
        expect(id).toMatch(/^[a-z2-7]+$/);
        expect(parsePeerId(id)).toEqual(key);
        expect(parsePeerId(id.toUpperCase())).toEqual(key);
        expect(shortPeerId(key)).toBe(id.slice(0, 8));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          expect(parsePeerId(text)).toHaveLength(32);
        } catch (error) {
          expect(isChatError(error, 'BAD_PEER_ID')).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('catches every single-character typo with the checksum or the alphabet', () => {
    const id = formatPeerId(new Uint8Array(32).fill(42));
    let caught = 0;
    let total = 0;
    for (let i = 0; i < id.length; i++) {
      for (const c of 'abcdefghijklmnopqrstuvwxyz234567') {
        if (c === id[i]) continue;
        total++;
        if (!isPeerId(id.slice(0, i) + c + id.slice(i + 1))) caught++;
      }
    }
    // A 16-bit checksum: at most a handful of the 1,705 single typos could slip through.
    expect(caught / total).toBeGreaterThan(0.99);
    expect(() => parsePeerId('x'.repeat(PEER_ID_LENGTH))).toThrow(/checksum|characters/);
    expect(() => parsePeerId('short')).toThrow(/55 characters/);
  });
});
