import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHex, toHex } from '../src/index';

describe('hex', () => {
  it('round-trips any bytes, and reads only a view’s own bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'));
        expect(parseHex(toHex(bytes))).toEqual(bytes);
        expect(parseHex(toHex(bytes).toUpperCase())).toEqual(bytes);
      }),
    );
    const buffer = Uint8Array.of(0xaa, 0x01, 0x02, 0xbb);
    expect(toHex(buffer.subarray(1, 3))).toBe('0102');
  });

  it('refuses odd lengths and non-hex characters (total: undefined, never a throw)', () => {
    expect(parseHex('abc')).toBeUndefined();
    expect(parseHex('zz')).toBeUndefined();
    expect(parseHex('0x00')).toBeUndefined();
    expect(parseHex('')).toEqual(new Uint8Array(0));
    fc.assert(
      fc.property(fc.string(), (text) => {
        const bytes = parseHex(text);
        if (bytes !== undefined) expect(toHex(bytes)).toBe(text.toLowerCase());
      }),
    );
  });
});
