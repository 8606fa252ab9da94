import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commonPrefixLength,
  compareDistance,
  fromHex,
  randomIdInBucket,
  toHex,
  xor,
} from '../src/index';
import { arbNodeId } from '../src/testing';
import { seededRandom } from './helpers/clock';

describe('node ids (BEP 5 XOR metric)', () => {
  it('hex round-trips and rejects junk', () => {
    fc.assert(
      fc.property(arbNodeId(), (id) => {
        expect(fromHex(toHex(id))).toEqual(id);
      }),
    );
    expect(() => fromHex('abc')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => fromHex('zz')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('compareDistance orders like comparing the XOR distances', () => {
    fc.assert(
      fc.property(arbNodeId(), arbNodeId(), arbNodeId(), (t, a, b) => {
        const da = toHex(xor(t, a));
        const db = toHex(xor(t, b));
        expect(Math.sign(compareDistance(t, a, b))).toBe(da < db ? -1 : da > db ? 1 : 0);
      }),
    );
  });

  it('commonPrefixLength counts the leading zero bits of the XOR', () => {
    fc.assert(
      fc.property(arbNodeId(), arbNodeId(), (a, b) => {
        const bits = [...xor(a, b)].map((x) => x.toString(2).padStart(8, '0')).join('');
        const expected = bits.indexOf('1') === -1 ? 160 : bits.indexOf('1');
        expect(commonPrefixLength(a, b)).toBe(expected);
      }),
    );
  });

  it('randomIdInBucket lands in the asked bucket', () => {
    const random = seededRandom(7);
    fc.assert(
      fc.property(arbNodeId(), fc.integer({ min: 0, max: 160 }), (self, prefix) => {
        expect(commonPrefixLength(self, randomIdInBucket(self, prefix, random))).toBe(prefix);
      }),
      { numRuns: 1000 },
    );
  });
});
