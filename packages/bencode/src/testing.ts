/**
 * @peerkit/bencode/testing: fast-check arbitraries for bencode values and encodings, a deep
 * equality for decoded values, and a compliance suite that runs the package's own properties
 * against any codec with the same contract (yours, or this one).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToBinary } from './binary';
import { encode as peerkitEncode } from './encode';
import type { BencodeDict, BencodeInput, BencodeValue, DecodeOptions } from './types';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export interface ArbBencodeOptions {
  /** Deepest nesting of lists/dictionaries (default 4). */
  maxDepth?: number;
  /** Most items per list/dictionary (default 5). */
  maxItems?: number;
  /** Longest byte string (default 24). */
  maxBytes?: number;
  /** Dictionary keys (default {@link arbBencodeKey}). */
  key?: fc.Arbitrary<string>;
  /** Integers (default {@link arbBencodeInteger}). */
  integer?: fc.Arbitrary<number | bigint>;
}

/** Keys that are awkward for a JS object: they must stay plain keys of a null-prototype dict. */
const trickyKeys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '10', '9', ''];

/** A dictionary key: a binary string (one char per byte), often ASCII, sometimes tricky. */
export function arbBencodeKey(maxBytes = 12): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom('info', 'length', 'path', 'pieces', 'piece length', 'id', 't', 'y', 'q', 'a'),
    fc.constantFrom(...trickyKeys),
    fc.uint8Array({ maxLength: maxBytes }).map((b) => bytesToBinary(b)),
  );
}

/** An integer as `decode` returns it: a safe-integer number, or a bigint beyond ±(2^53 - 1). */
export function arbBencodeInteger(): fc.Arbitrary<number | bigint> {
  const big = fc.bigInt({ min: MAX_SAFE + 1n, max: 1n << 200n });
  return fc.oneof(
    fc.integer({ min: -1000, max: 1000 }),
    fc.maxSafeInteger(),
    fc.constantFrom(0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
    big,
    big.map((b) => -b),
  );
}

function dictOf(entries: readonly (readonly [string, BencodeValue])[]): BencodeDict {
  const dict: BencodeDict = Object.create(null);
  for (const [k, v] of entries) dict[k] = v;
  return dict;
}

/**
 * A value in the exact shape `decode` returns: integers (number / bigint past 2^53), byte
 * strings (`Uint8Array`), arrays, and null-prototype dictionaries with binary-string keys.
 * So `decode(encode(v))` must equal `v`.
 */
export function arbBencodeValue(options: ArbBencodeOptions = {}): fc.Arbitrary<BencodeValue> {
  const maxDepth = options.maxDepth ?? 4;
  const maxItems = options.maxItems ?? 5;
  const key = options.key ?? arbBencodeKey();
  const leaf: fc.Arbitrary<BencodeValue> = fc.oneof(
    options.integer ?? arbBencodeInteger(),
    fc.uint8Array({ maxLength: options.maxBytes ?? 24 }),
  );
  const { value } = fc.letrec<{ value: BencodeValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth, withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: maxItems }),
      fc
        .uniqueArray(fc.tuple(key, tie('value')), {
          maxLength: maxItems,
          selector: (e) => e[0],
        })
        .map(dictOf),
    ),
  }));
  return value;
}

/** Canonical bencode bytes (the encoding of an `arbBencodeValue`), with the value they encode. */
export function arbCanonicalBencode(
  options: ArbBencodeOptions = {},
): fc.Arbitrary<{ bytes: Uint8Array; value: BencodeValue }> {
  return arbBencodeValue(options).map((value) => ({ bytes: peerkitEncode(value), value }));
}

/**
 * Lenient-but-valid bencode: the encoding of a value with dictionary keys in a random order and
 * random leading zeros in integers and string lengths (the forms libtorrent accepts with a
 * "soft error"). `decode(bytes, { strict: false })` must give `value`.
 */
export function arbLenientBencode(
  options: ArbBencodeOptions = {},
): fc.Arbitrary<{ bytes: Uint8Array; value: BencodeValue }> {
  return fc
    .tuple(arbBencodeValue(options), fc.integer({ min: 1, max: 0x7fffffff }))
    .map(([value, seed]) => ({ bytes: messyEncode(value, seed), value }));
}

/** Encodes with shuffled keys and leading zeros, driven by a small xorshift generator. */
function messyEncode(value: BencodeValue, seed: number): Uint8Array {
  let state = seed | 0 || 1;
  const next = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const zeros = (): string => '0'.repeat(next(4) === 0 ? 1 + next(3) : 0);
  const chunks: Uint8Array[] = [];
  const text = (s: string) => chunks.push(Uint8Array.from(s, (c) => c.charCodeAt(0)));
  const bytes = (b: Uint8Array) => {
    text(`${zeros()}${b.length}:`);
    chunks.push(b);
  };
  const walk = (v: BencodeValue): void => {
    if (typeof v === 'number' || typeof v === 'bigint') {
      const neg = v < 0;
      const digits = (neg ? -v : v).toString();
      text(`i${neg ? '-' : ''}${zeros()}${digits}e`);
    } else if (v instanceof Uint8Array) {
      bytes(v);
    } else if (Array.isArray(v)) {
      text('l');
      v.forEach(walk);
      text('e');
    } else {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i > 0; i--) {
        const j = next(i + 1);
        [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
      }
      text('d');
      for (const k of keys) {
        bytes(Uint8Array.from(k, (c) => c.charCodeAt(0)));
        walk(v[k] as BencodeValue);
      }
      text('e');
    }
  };
  walk(value);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/**
 * Bytes worth feeding a decoder: uniformly random bytes, strings over the bencode alphabet
 * (`i l d e : - 0-9`), and canonical or lenient encodings with a few bytes overwritten or cut off.
 */
export function arbBencodeBytes(): fc.Arbitrary<Uint8Array> {
  const alphabet = fc.constantFrom(...Array.from('ildee:-0123456789', (c) => c.charCodeAt(0)));
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.array(alphabet, { maxLength: 64 }).map((a) => Uint8Array.from(a)),
    fc
      .tuple(
        fc.oneof(arbCanonicalBencode(), arbLenientBencode()),
        fc.array(fc.tuple(fc.nat(), alphabet), { maxLength: 3 }),
        fc.nat(),
      )
      .map(([{ bytes }, edits, cut]) => {
        const b = bytes.slice();
        for (const [at, byte] of edits) if (b.length > 0) b[at % b.length] = byte;
        return cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
      }),
  );
}

/**
 * A value `encode` accepts, together with what decoding its encoding gives: JS strings
 * become UTF-8 bytes, Maps and objects become dictionaries, `undefined` entries vanish.
 */
export function arbBencodeInput(
  options: ArbBencodeOptions = {},
): fc.Arbitrary<{ input: BencodeInput; decoded: BencodeValue }> {
  const maxDepth = options.maxDepth ?? 3;
  const maxItems = options.maxItems ?? 4;
  type Pair = { input: BencodeInput; decoded: BencodeValue };
  const utf8 = new TextEncoder();
  const leaf: fc.Arbitrary<Pair> = fc.oneof(
    arbBencodeInteger().map((n) => ({ input: n, decoded: n })),
    fc.bigInt({ min: -MAX_SAFE, max: MAX_SAFE }).map((n) => ({ input: n, decoded: Number(n) })),
    // Text of any code points, lone surrogates included (encode writes them as U+FFFD).
    fc
      .oneof(
        fc.string({ unit: 'grapheme', maxLength: 8 }),
        fc.string({ unit: 'binary', maxLength: 8 }),
        fc.string({
          unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
          maxLength: 3,
        }),
      )
      .map((s) => ({ input: s, decoded: utf8.encode(s) })),
    fc.uint8Array({ maxLength: 16 }).map((b) => ({ input: b, decoded: b })),
  );
  const { pair } = fc.letrec<{ pair: Pair }>((tie) => {
    const entries = fc.uniqueArray(
      fc.tuple(arbBencodeKey(), fc.option(tie('pair'), { nil: undefined })),
      { maxLength: maxItems, selector: (e) => e[0] },
    );
    const decodedDict = (es: [string, Pair | undefined][]): BencodeDict =>
      dictOf(es.flatMap(([k, p]) => (p ? [[k, p.decoded] as const] : [])));
    return {
      pair: fc.oneof(
        { depthSize: 'small', maxDepth, withCrossShrink: true },
        leaf,
        fc.array(tie('pair'), { maxLength: maxItems }).map((ps) => ({
          input: ps.map((p) => p.input),
          decoded: ps.map((p) => p.decoded),
        })),
        entries.map((es) => {
          const input: Record<string, BencodeInput | undefined> = {};
          for (const [k, p] of es) {
            // Own data property even for "__proto__".
            Object.defineProperty(input, k, {
              value: p?.input,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          }
          return { input, decoded: decodedDict(es) };
        }),
        fc.tuple(entries, fc.boolean()).map(([es, asBytes]) => {
          const input = new Map<string | Uint8Array, BencodeInput | undefined>(
            es.map(([k, p]) => [
              asBytes ? Uint8Array.from(k, (c) => c.charCodeAt(0)) : k,
              p?.input,
            ]),
          );
          return { input, decoded: decodedDict(es) };
        }),
      ),
    };
  });
  return pair;
}

/**
 * Deep equality of decoded values: a number equals only the same number, a bigint only the
 * same bigint, byte strings compare by content, dictionaries by their own keys.
 */
export function bencodeEquals(a: BencodeValue | undefined, b: BencodeValue | undefined): boolean {
  if (typeof a === 'number' || typeof a === 'bigint') return a === b;
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => bencodeEquals(x, b[i]));
  }
  if (a === undefined || b === undefined) return a === b;
  if (typeof b !== 'object' || Array.isArray(b) || b instanceof Uint8Array) return false;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length) return false;
  return ka.every((k, i) => k === kb[i] && bencodeEquals(a[k], b[k]));
}

/** The contract the compliance suite checks. */
export interface BencodeCodec {
  encode(value: BencodeInput): Uint8Array;
  decode(bytes: Uint8Array, options?: DecodeOptions): BencodeValue;
  /** The codec's error class: every rejection must be an instance of it. */
  errorClass: abstract new (
    ...args: never[]
  ) => Error;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Registers (with vitest) the properties every BEP 3 bencode codec with this package's
 * contract must have, each with `numRuns` runs (default 1000).
 */
export function describeBencodeCompliance(
  name: string,
  codec: BencodeCodec,
  options: { numRuns?: number } = {},
): void {
  const numRuns = options.numRuns ?? 1000;
  const decodesOrRejects = (
    bytes: Uint8Array,
    decodeOptions?: DecodeOptions,
  ): BencodeValue | undefined => {
    try {
      return codec.decode(bytes, decodeOptions);
    } catch (e) {
      if (e instanceof codec.errorClass) return undefined;
      throw e;
    }
  };

  describe(`${name}: bencode compliance`, () => {
    it('decode(encode(v)) equals v', () => {
      fc.assert(
        fc.property(arbBencodeValue(), (v) => bencodeEquals(codec.decode(codec.encode(v)), v)),
        { numRuns },
      );
    });

    it('encode(decode(b)) is b, byte for byte, for canonical b', () => {
      fc.assert(
        fc.property(arbCanonicalBencode(), ({ bytes }) =>
          sameBytes(codec.encode(codec.decode(bytes)), bytes),
        ),
        { numRuns },
      );
    });

    it('encode accepts strings, Maps and objects and decodes to the normal form', () => {
      fc.assert(
        fc.property(arbBencodeInput(), ({ input, decoded }) =>
          bencodeEquals(codec.decode(codec.encode(input)), decoded),
        ),
        { numRuns },
      );
    });

    it('lenient mode decodes unsorted keys and leading zeros to the same value', () => {
      fc.assert(
        fc.property(arbLenientBencode(), ({ bytes, value }) =>
          bencodeEquals(codec.decode(bytes, { strict: false }), value),
        ),
        { numRuns },
      );
    });

    it('arbitrary bytes give a value or the codec error, in both modes; strict accepts only canonical bytes', () => {
      fc.assert(
        fc.property(arbBencodeBytes(), (bytes) => {
          const strict = decodesOrRejects(bytes);
          decodesOrRejects(bytes, { strict: false });
          if (strict !== undefined) expect(sameBytes(codec.encode(strict), bytes)).toBe(true);
        }),
        { numRuns },
      );
    });
  });
}
