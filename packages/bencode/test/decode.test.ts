import { describe, expect, it } from 'vitest';
import {
  type BencodeErrorCode,
  type DecodeOptions,
  decode,
  decodePrefix,
  isBencodeDict,
  isBencodeError,
} from '../src/index';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function errorOf(input: string | Uint8Array, options?: DecodeOptions): [BencodeErrorCode, number] {
  try {
    decode(typeof input === 'string' ? ascii(input) : input, options);
  } catch (e) {
    if (!isBencodeError(e)) throw e;
    return [e.code, e.offset];
  }
  throw new Error('expected a BencodeError');
}

describe('decode: integers', () => {
  it('reads numbers up to ±(2^53 - 1) and bigints beyond', () => {
    expect(decode(ascii('i9007199254740991e'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(decode(ascii('i-9007199254740991e'))).toBe(Number.MIN_SAFE_INTEGER);
    expect(decode(ascii('i9007199254740992e'))).toBe(9007199254740992n);
    expect(decode(ascii('i-9007199254740992e'))).toBe(-9007199254740992n);
    expect(decode(ascii('i1000000000000000e'))).toBe(1e15);
    expect(decode(ascii('i999999999999999e'))).toBe(999999999999999);
  });

  it('never returns -0', () => {
    expect(Object.is(decode(ascii('i0e')), 0)).toBe(true);
    expect(Object.is(decode(ascii('i-0e'), { strict: false }), 0)).toBe(true);
  });

  it('rejects non-canonical integers in strict mode only (BEP 3)', () => {
    expect(errorOf('i-0e')).toEqual(['NEGATIVE_ZERO', 0]);
    expect(errorOf('i00e')).toEqual(['LEADING_ZERO', 1]);
    expect(errorOf('i-03e')).toEqual(['LEADING_ZERO', 2]);
    expect(decode(ascii('i-03e'), { strict: false })).toBe(-3);
    expect(decode(ascii('i00e'), { strict: false })).toBe(0);
  });

  it('rejects malformed integers in both modes', () => {
    for (const strict of [true, false]) {
      expect(errorOf('ie', { strict })).toEqual(['EXPECTED_DIGIT', 1]);
      expect(errorOf('i--1e', { strict })).toEqual(['EXPECTED_DIGIT', 2]);
      expect(errorOf('i+1e', { strict })).toEqual(['EXPECTED_DIGIT', 1]);
      expect(errorOf('i1.5e', { strict })).toEqual(['EXPECTED_DIGIT', 2]);
      expect(errorOf('i12', { strict })).toEqual(['UNEXPECTED_END', 3]);
    }
  });

  it('bounds the digits of one integer with maxIntegerDigits', () => {
    const long = `i${'9'.repeat(1025)}e`;
    expect(errorOf(long)).toEqual(['INTEGER_LIMIT', 1]);
    expect(decode(ascii(long), { maxIntegerDigits: 2000 })).toBe(BigInt('9'.repeat(1025)));
    expect(errorOf('i-123e', { maxIntegerDigits: 2 })).toEqual(['INTEGER_LIMIT', 2]);
  });
});

describe('decode: byte strings', () => {
  it('returns views into the input, without copying', () => {
    const input = ascii('l4:spam0:e');
    const [spam, empty] = decode(input) as Uint8Array[];
    expect(spam).toEqual(ascii('spam'));
    expect(spam?.buffer).toBe(input.buffer);
    expect(spam?.byteOffset).toBe(3);
    expect(empty).toEqual(new Uint8Array(0));
  });

  it('accepts a Buffer and a view into a larger buffer', () => {
    expect(decode(Buffer.from('3:abc'))).toEqual(Buffer.from('abc'));
    const big = ascii('xx3:abcyy');
    expect(decode(big.subarray(2, 7))).toEqual(ascii('abc'));
  });

  it('rejects lengths past the input, missing colons and leading zeros (strict)', () => {
    expect(errorOf('5:abc')).toEqual(['UNEXPECTED_END', 5]);
    expect(errorOf('99999999999999999999999:abc')).toEqual(['UNEXPECTED_END', 27]);
    expect(errorOf('3abc')).toEqual(['EXPECTED_COLON', 1]);
    expect(errorOf('3')).toEqual(['UNEXPECTED_END', 1]);
    expect(errorOf('00:')).toEqual(['LEADING_ZERO', 0]);
    expect(decode(ascii('003:abc'), { strict: false })).toEqual(ascii('abc'));
  });
});

describe('decode: lists and dictionaries', () => {
  it('gives null-prototype dictionaries keyed by binary strings', () => {
    const d = decode(ascii('d9:__proto__i1e11:constructori2ee'));
    expect(isBencodeDict(d)).toBe(true);
    expect(Object.getPrototypeOf(d)).toBeNull();
    expect(Object.keys(d as object)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(d, '__proto__')?.value).toBe(1);
    const binary = decode(Uint8Array.of(0x64, 0x32, 0x3a, 0x00, 0xff, 0x69, 0x31, 0x65, 0x65));
    expect(Object.keys(binary as object)).toEqual(['\u0000\u00ff']);
  });

  it('checks key order as raw bytes, not as text', () => {
    // 'Z' (0x5a) < 'a' (0x61) < 'aa' < 0x80: byte order.
    const sorted = Uint8Array.from([...ascii('d1:Zi1e1:ai2e2:aai3e1:'), 0x80, ...ascii('i4ee')]);
    expect(Object.keys(decode(sorted) as object)).toHaveLength(4);
    expect(errorOf('d1:ai1e1:Zi2ee')).toEqual(['UNSORTED_KEYS', 7]);
    expect(errorOf('d1:ai1e1:ai2ee')).toEqual(['DUPLICATE_KEY', 7]);
  });

  it('lenient mode keeps unsorted keys and the last of duplicate keys', () => {
    expect(decode(ascii('d1:bi1e1:ai2e1:bi3ee'), { strict: false })).toEqual(
      Object.assign(Object.create(null), { b: 3, a: 2 }),
    );
  });

  it('rejects keys that are not strings, missing values and unterminated containers', () => {
    expect(errorOf('di1ei2ee')).toEqual(['KEY_NOT_STRING', 1]);
    expect(errorOf('d1:ae')).toEqual(['EXPECTED_VALUE', 4]);
    expect(errorOf('d1:ai1e')).toEqual(['UNEXPECTED_END', 7]);
    expect(errorOf('l')).toEqual(['UNEXPECTED_END', 1]);
    expect(errorOf('lx')).toEqual(['EXPECTED_VALUE', 1]);
  });

  it('limits nesting with maxDepth and values with maxItems', () => {
    expect(errorOf('lllee', { maxDepth: 2 })).toEqual(['DEPTH_LIMIT', 2]);
    expect(decode(ascii('llee'), { maxDepth: 2 })).toEqual([[]]);
    expect(errorOf('d1:ad1:bleee', { maxDepth: 2 })).toEqual(['DEPTH_LIMIT', 8]);
    expect(decode(ascii('i1e'), { maxDepth: 0 })).toBe(1);
    expect(errorOf('le', { maxDepth: 0 })).toEqual(['DEPTH_LIMIT', 0]);
    expect(errorOf('li1ei2ee', { maxItems: 2 })).toEqual(['ITEM_LIMIT', 4]);
    expect(decode(ascii('li1ee'), { maxItems: 2 })).toEqual([1]);
  });
});

describe('decode: the whole input', () => {
  it('rejects empty input and trailing bytes; decodePrefix reports the end instead', () => {
    expect(errorOf('')).toEqual(['UNEXPECTED_END', 0]);
    expect(errorOf('i1ei2e')).toEqual(['TRAILING_DATA', 3]);
    expect(decodePrefix(ascii('d1:ai1ee<piece bytes>'))).toEqual({
      value: Object.assign(Object.create(null), { a: 1 }),
      end: 8,
    });
    expect(() => decodePrefix(ascii('d1:ai1e'))).toThrow(/UNEXPECTED_END/);
  });

  it('throws TypeError/RangeError for caller mistakes, not for input', () => {
    expect(() => decode('i1e' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => decode(ascii('i1e'), { maxDepth: 5000 })).toThrow(RangeError);
    expect(() => decode(ascii('i1e'), { maxDepth: -1 })).toThrow(RangeError);
    expect(() => decode(ascii('i1e'), { maxItems: Number.NaN })).toThrow(RangeError);
    expect(decode(ascii('i1e'), { maxItems: Number.POSITIVE_INFINITY })).toBe(1);
  });

  it('reports a stack overflow near the caller limit as DEPTH_LIMIT, never a RangeError', () => {
    // Use more and more of the stack before decoding 1024 levels, until the caller itself
    // overflows: decode must give its value or DEPTH_LIMIT at every step, and the step just
    // before the caller's own overflow must have reached DEPTH_LIMIT.
    const deep = ascii(`${'l'.repeat(1024)}${'e'.repeat(1024)}`);
    const seen = new Set<string>();
    const burn = (n: number): void => {
      if (n > 0) {
        burn(n - 1);
        return;
      }
      try {
        decode(deep, { maxDepth: 1024 });
        seen.add('value');
      } catch (e) {
        if (!isBencodeError(e, 'DEPTH_LIMIT')) throw e;
        seen.add('DEPTH_LIMIT');
      }
    };
    for (let n = 0; n < 100_000; n += 100) {
      try {
        burn(n);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        break; // the caller's own recursion overflowed
      }
    }
    expect(seen).toEqual(new Set(['value', 'DEPTH_LIMIT']));
  });
});
