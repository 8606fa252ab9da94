import { describe, expect, it } from 'vitest';
import {
  type BencodeErrorCode,
  type BencodeInput,
  decode,
  encode,
  isBencodeError,
} from '../src/index';

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function errorOf(value: unknown, maxDepth?: number): [BencodeErrorCode, number] {
  try {
    encode(value as BencodeInput, maxDepth === undefined ? undefined : { maxDepth });
  } catch (e) {
    if (!isBencodeError(e)) throw e;
    return [e.code, e.offset];
  }
  throw new Error('expected a BencodeError');
}

describe('encode', () => {
  it('writes the BEP 3 examples', () => {
    expect(text(encode('spam'))).toBe('4:spam');
    expect(text(encode(3))).toBe('i3e');
    expect(text(encode(-3))).toBe('i-3e');
    expect(text(encode(0))).toBe('i0e');
    expect(text(encode(-0))).toBe('i0e');
    expect(text(encode(['spam', 'eggs']))).toBe('l4:spam4:eggse');
    expect(text(encode({ cow: 'moo', spam: 'eggs' }))).toBe('d3:cow3:moo4:spam4:eggse');
    expect(text(encode({ spam: ['a', 'b'] }))).toBe('d4:spaml1:a1:bee');
  });

  it('writes integers exactly: safe numbers and any bigint', () => {
    expect(text(encode(Number.MAX_SAFE_INTEGER))).toBe('i9007199254740991e');
    expect(text(encode(Number.MIN_SAFE_INTEGER))).toBe('i-9007199254740991e');
    expect(text(encode(-(2n ** 64n)))).toBe('i-18446744073709551616e');
    expect(text(encode(10))).toBe('i10e');
    expect(text(encode(1e15))).toBe('i1000000000000000e');
  });

  it('rejects numbers that are not safe integers', () => {
    for (const n of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(errorOf(n)).toEqual(['INVALID_INTEGER', 0]);
    }
    expect(errorOf([1, 0.5])).toEqual(['INVALID_INTEGER', 4]);
  });

  it('writes JS strings as UTF-8 and byte strings as they are', () => {
    expect([...encode('é')]).toEqual([...ascii('2:'), 0xc3, 0xa9]);
    expect([...encode('\ud800')]).toEqual([...ascii('3:'), 0xef, 0xbf, 0xbd]);
    expect([...encode(Uint8Array.of(0, 255))]).toEqual([...ascii('2:'), 0, 255]);
    expect(text(encode(''))).toBe('0:');
  });

  it('sorts keys as raw bytes, including integer-like keys', () => {
    // Object.keys would list '9' and '10' numerically first; bencode wants byte order.
    const d = { b: 1, '10': 2, a: 3, '9': 4, Z: 5, aa: 6, '\u0080': 7 };
    expect(text(encode(d))).toBe('d2:10i2e1:9i4e1:Zi5e1:ai3e2:aai6e1:bi1e1:\u0080i7ee');
  });

  it('takes Maps keyed by binary strings or bytes and checks their keys', () => {
    const m = new Map<string | Uint8Array, BencodeInput>([
      ['b', 1],
      [Uint8Array.of(0x61), 2],
      [Uint8Array.of(0xff, 0x00), 3],
    ]);
    expect(text(encode(m))).toBe('d1:ai2e1:bi1e2:\u00ff\u0000i3ee');
    expect(
      errorOf(
        new Map<unknown, unknown>([
          ['a', 1],
          [ascii('a'), 2],
        ]),
      ),
    ).toEqual(['DUPLICATE_KEY', 0]);
    expect(errorOf(new Map([[1, 1]]))).toEqual(['UNSUPPORTED_TYPE', 0]);
  });

  it('rejects object keys with chars above U+00FF, with a typed error', () => {
    expect(errorOf({ π: 1 })).toEqual(['INVALID_KEY', 0]);
    expect(errorOf(new Map([['ok', { ключ: 1 }]]))).toEqual(['INVALID_KEY', 5]);
    // Latin-1 chars are single bytes.
    expect([...encode({ é: 1 })]).toEqual([...ascii('d1:'), 0xe9, ...ascii('i1ee')]);
  });

  it('round-trips awkward keys through null-prototype dictionaries', () => {
    const d = decode(ascii('d9:__proto__i1e11:constructori2ee'));
    expect(text(encode(d))).toBe('d9:__proto__i1e11:constructori2ee');
  });

  it('leaves out dictionary entries whose value is undefined', () => {
    expect(text(encode({ a: undefined, b: 1 }))).toBe('d1:bi1ee');
    expect(text(encode(new Map([['a', undefined]])))).toBe('de');
  });

  it('rejects what bencode cannot represent', () => {
    for (const v of [null, undefined, true, () => 1, Symbol('x'), new Date(0), new Set([1])]) {
      expect(errorOf(v)[0]).toBe('UNSUPPORTED_TYPE');
    }
    expect(errorOf(new Uint16Array(2))[0]).toBe('UNSUPPORTED_TYPE');
    class Point {
      x = 1;
    }
    expect(errorOf(new Point())[0]).toBe('UNSUPPORTED_TYPE');
    expect(errorOf(['a', undefined])).toEqual(['UNSUPPORTED_TYPE', 4]);
  });

  it('stops cycles and deep nesting with maxDepth', () => {
    const cycle: unknown[] = [];
    cycle.push(cycle);
    expect(errorOf(cycle)[0]).toBe('DEPTH_LIMIT');
    expect(errorOf([[[]]], 2)).toEqual(['DEPTH_LIMIT', 2]);
    expect(text(encode([[]], { maxDepth: 2 }))).toBe('llee');
    expect(() => encode(1, { maxDepth: 1025 })).toThrow(RangeError);
  });

  it('returns independent buffers and grows past its scratch space', () => {
    const a = encode('x');
    const b = encode('y');
    expect(text(a)).toBe('1:x');
    expect(a.buffer).not.toBe(b.buffer);
    const big = new Uint8Array(3 * 1024 * 1024).fill(7);
    const out = encode([big, big]);
    expect(out.length).toBe(2 * (big.length + 8) + 2);
    const [x, y] = decode(out) as Uint8Array[];
    expect(
      Buffer.from(x as Uint8Array).equals(big) && Buffer.from(y as Uint8Array).equals(big),
    ).toBe(true);
    expect(text(encode({ after: 1 }))).toBe('d5:afteri1ee');
  });

  it('encodes correctly when a getter encodes during an encode', () => {
    const inner = { toEncode: 1 };
    const outer = {
      get a(): Uint8Array {
        return encode(inner);
      },
      b: 'x',
    };
    expect(text(encode(outer))).toBe('d1:a15:d8:toEncodei1ee1:b1:xe');
  });
});
