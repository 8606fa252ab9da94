/**
 * The bencode decoder (BEP 3, "bencoding"). One cursor walks the input once; byte strings come
 * back as `subarray` views (no copy), dictionary keys as binary strings, and nothing builds a
 * string per byte except keys. It is total: any input gives a value or a `BencodeError`.
 */
import { bytesToBinary } from './binary';
import { BencodeError } from './errors';
import { keyString } from './key-cache';
import {
  checkCountOption,
  checkDepthOption,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_INTEGER_DIGITS,
  isStackOverflow,
} from './limits';
import type { BencodeDict, BencodeSpan, BencodeValue, DecodeOptions } from './types';

const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const COLON = 0x3a;
const MINUS = 0x2d;
const CHAR_D = 0x64;
const CHAR_E = 0x65;
const CHAR_I = 0x69;
const CHAR_L = 0x6c;

/** Up to 15 decimal digits always fit exactly in a double (2^53 ≈ 9.007e15). */
const EXACT_DIGITS = 15;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** One class for every span, so that the span tree has a single object shape (fast in V8). */
class Span implements BencodeSpan {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly items: BencodeSpan[] | undefined,
    readonly entries: Record<string, BencodeSpan> | undefined,
  ) {}
}

class Decoder {
  pos = 0;
  private items = 0;
  private depth = 0;
  /** The span of the value parsed last (only when spans are recorded). */
  span: BencodeSpan | undefined = undefined;

  private readonly bytes: Uint8Array;
  private readonly strict: boolean;
  private readonly maxDepth: number;
  private readonly maxItems: number;
  private readonly maxIntegerDigits: number;
  private readonly recordSpans: boolean;
  /** `rawSpan` mode: the path whose span to find (keys as binary strings), else undefined. */
  private readonly target: readonly (string | number)[] | undefined;
  /** How many leading steps of `target` the containers open right now match. */
  private matched = 0;
  /** The span found at `target` (the last one, should lenient mode see a key twice). */
  found: BencodeSpan | undefined = undefined;

  constructor(
    bytes: Uint8Array,
    options: DecodeOptions | undefined,
    recordSpans: boolean,
    target?: readonly (string | number)[],
  ) {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError('bencode: decode expects a Uint8Array');
    }
    this.bytes = bytes;
    this.strict = options?.strict ?? true;
    this.maxDepth = checkDepthOption(options?.maxDepth ?? DEFAULT_MAX_DEPTH);
    this.maxItems = checkCountOption('maxItems', options?.maxItems ?? Number.POSITIVE_INFINITY);
    this.maxIntegerDigits = checkCountOption(
      'maxIntegerDigits',
      options?.maxIntegerDigits ?? DEFAULT_MAX_INTEGER_DIGITS,
    );
    this.recordSpans = recordSpans;
    this.target = target;
  }

  private fail(code: BencodeError['code'], offset: number, message: string): never {
    throw new BencodeError(code, offset, message);
  }

  private unexpectedEnd(): never {
    this.fail('UNEXPECTED_END', this.bytes.length, 'input ended inside a value');
  }

  /** Parses the value starting at `pos`; leaves `pos` just after it. */
  value(): BencodeValue {
    const pos = this.pos;
    if (pos >= this.bytes.length) this.unexpectedEnd();
    if (++this.items > this.maxItems) this.fail('ITEM_LIMIT', pos, 'too many values');
    const c = this.bytes[pos] as number;
    if (c >= CHAR_0 && c <= CHAR_9) return this.byteString();
    if (c === CHAR_I) return this.integer();
    if (c === CHAR_L) return this.list();
    if (c === CHAR_D) return this.dict();
    return this.fail('EXPECTED_VALUE', pos, 'expected a value (i, l, d or a digit)');
  }

  /**
   * Parses `<length>:` at `pos` (BEP 3: "Strings are length-prefixed base ten followed by a
   * colon"), checks that the content fits in the input, moves `pos` past the content and returns
   * the content's start. The caller has checked that `pos` is at a digit.
   */
  private stringContent(): number {
    const bytes = this.bytes;
    const len = bytes.length;
    const first = this.pos;
    let p = first;
    let n = 0;
    let c = 0;
    while (p < len) {
      c = bytes[p] as number;
      if (c < CHAR_0 || c > CHAR_9) break;
      // Stop growing once past the input length: the value only needs to compare as "too big".
      if (n <= len) n = n * 10 + (c - CHAR_0);
      p++;
    }
    if (p >= len) this.unexpectedEnd();
    if (c !== COLON) this.fail('EXPECTED_COLON', p, 'expected ":" after a string length');
    // Canonical lengths have no leading zero (BEP 3 implies it; libtorrent flags it as a soft error).
    if (this.strict && p - first > 1 && bytes[first] === CHAR_0) {
      this.fail('LEADING_ZERO', first, 'string length with a leading zero');
    }
    const start = p + 1;
    if (n > len - start) this.unexpectedEnd();
    this.pos = start + n;
    return start;
  }

  private byteString(): Uint8Array {
    const first = this.pos;
    const start = this.stringContent();
    if (this.recordSpans) this.span = new Span(first, this.pos, undefined, undefined);
    return this.bytes.subarray(start, this.pos);
  }

  /** BEP 3: `i<base ten>e`; no leading zeros, no `-0`, no size limit (bigint past 2^53). */
  private integer(): number | bigint {
    const bytes = this.bytes;
    const len = bytes.length;
    const start = this.pos;
    let p = start + 1;
    let negative = false;
    if (p < len && bytes[p] === MINUS) {
      negative = true;
      p++;
    }
    const digitsStart = p;
    let n = 0;
    for (;;) {
      if (p >= len) this.unexpectedEnd();
      const c = bytes[p] as number;
      if (c === CHAR_E) break;
      if (c < CHAR_0 || c > CHAR_9)
        this.fail('EXPECTED_DIGIT', p, 'expected a digit in an integer');
      n = n * 10 + (c - CHAR_0);
      p++;
    }
    const digits = p - digitsStart;
    if (digits === 0) this.fail('EXPECTED_DIGIT', p, 'integer without digits');
    if (this.strict && bytes[digitsStart] === CHAR_0) {
      if (digits > 1) this.fail('LEADING_ZERO', digitsStart, 'integer with a leading zero');
      if (negative) this.fail('NEGATIVE_ZERO', start, 'i-0e is invalid');
    }
    if (digits > this.maxIntegerDigits) {
      this.fail('INTEGER_LIMIT', digitsStart, 'integer has more digits than maxIntegerDigits');
    }
    this.pos = p + 1;
    if (this.recordSpans) this.span = new Span(start, this.pos, undefined, undefined);
    if (digits <= EXACT_DIGITS) return negative && n !== 0 ? -n : n;
    const big = BigInt(bytesToBinary(bytes, digitsStart, p));
    const value = negative ? -big : big;
    return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value;
  }

  private enter(start: number): void {
    if (++this.depth > this.maxDepth)
      this.fail('DEPTH_LIMIT', start, 'nesting deeper than maxDepth');
  }

  /**
   * The step of `target` that a child of the container just entered must match, or undefined
   * when this container is not on the target path.
   */
  private targetStep(): string | number | undefined {
    const target = this.target;
    if (target === undefined || this.matched !== this.depth - 1) return undefined;
    return target[this.depth - 1];
  }

  /** Parses a child that lies on the target path, and records its span if it is the target. */
  private targetChild(): BencodeValue {
    const start = this.pos;
    const depth = this.depth;
    // A match replaces any earlier one: in lenient mode a repeated key wins, as in the value.
    this.found = undefined;
    this.matched = depth;
    const value = this.value();
    this.matched = depth - 1;
    if (depth === (this.target as readonly unknown[]).length) {
      this.found = new Span(start, this.pos, undefined, undefined);
    }
    return value;
  }

  /** BEP 3: `l<values>e`. */
  private list(): BencodeValue[] {
    const bytes = this.bytes;
    const start = this.pos;
    this.enter(start);
    this.pos++;
    const out: BencodeValue[] = [];
    const spans: BencodeSpan[] | undefined = this.recordSpans ? [] : undefined;
    const step = this.targetStep();
    for (;;) {
      if (this.pos >= bytes.length) this.unexpectedEnd();
      if (bytes[this.pos] === CHAR_E) break;
      out.push(step === out.length ? this.targetChild() : this.value());
      if (spans) spans.push(this.span as BencodeSpan);
    }
    this.pos++;
    this.depth--;
    if (spans) this.span = new Span(start, this.pos, spans, undefined);
    return out;
  }

  /** BEP 3: `d<key><value>...e`, "Keys must be strings and appear in sorted order (sorted as raw strings, not alphanumerics)". */
  private dict(): BencodeDict {
    const bytes = this.bytes;
    const start = this.pos;
    this.enter(start);
    this.pos++;
    const out: BencodeDict = Object.create(null);
    const entries: Record<string, BencodeSpan> | undefined = this.recordSpans
      ? Object.create(null)
      : undefined;
    const step = this.targetStep();
    let prevStart = -1;
    let prevEnd = -1;
    for (;;) {
      if (this.pos >= bytes.length) this.unexpectedEnd();
      const c = bytes[this.pos] as number;
      if (c === CHAR_E) break;
      const keyOffset = this.pos;
      if (c < CHAR_0 || c > CHAR_9)
        this.fail('KEY_NOT_STRING', keyOffset, 'dictionary key is not a string');
      const keyStart = this.stringContent();
      const keyEnd = this.pos;
      if (this.strict && prevStart >= 0) {
        const order = compareBytes(bytes, prevStart, prevEnd, keyStart, keyEnd);
        if (order === 0) this.fail('DUPLICATE_KEY', keyOffset, 'duplicate dictionary key');
        if (order > 0) this.fail('UNSORTED_KEYS', keyOffset, 'dictionary keys out of order');
      }
      prevStart = keyStart;
      prevEnd = keyEnd;
      const key = keyString(bytes, keyStart, keyEnd);
      // Lenient mode: a duplicate key keeps the last value (like JSON.parse).
      out[key] = key === step ? this.targetChild() : this.value();
      if (entries) entries[key] = this.span as BencodeSpan;
    }
    this.pos++;
    this.depth--;
    if (entries) this.span = new Span(start, this.pos, undefined, entries);
    return out;
  }
}

/** Compares `bytes[aStart..aEnd)` with `bytes[bStart..bEnd)` as raw byte strings. */
function compareBytes(
  bytes: Uint8Array,
  aStart: number,
  aEnd: number,
  bStart: number,
  bEnd: number,
): number {
  const aLen = aEnd - aStart;
  const bLen = bEnd - bStart;
  const n = Math.min(aLen, bLen);
  for (let i = 0; i < n; i++) {
    const d = (bytes[aStart + i] as number) - (bytes[bStart + i] as number);
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

/**
 * Runs the decoder. `maxDepth` is capped so that the stack cannot overflow; should the caller
 * already sit deep in its own stack, an overflow still surfaces as a `BencodeError`.
 */
function run(decoder: Decoder): BencodeValue {
  try {
    return decoder.value();
  } catch (e) {
    if (isStackOverflow(e)) {
      throw new BencodeError('DEPTH_LIMIT', decoder.pos, 'nesting too deep for the call stack');
    }
    throw e;
  }
}

/**
 * Decodes exactly one bencoded value that fills all of `bytes`.
 * Throws `BencodeError` for anything else (including `TRAILING_DATA`).
 */
export function decode(bytes: Uint8Array, options?: DecodeOptions): BencodeValue {
  const decoder = new Decoder(bytes, options, false);
  const value = run(decoder);
  if (decoder.pos !== bytes.length) {
    throw new BencodeError('TRAILING_DATA', decoder.pos, 'bytes after the value');
  }
  return value;
}

/**
 * Decodes the one bencoded value at the start of `bytes` and returns it with `end`, the index
 * just after it; the bytes from `end` on are left alone (e.g. the metadata piece that follows
 * the dictionary of a BEP 9 `data` message).
 */
export function decodePrefix(
  bytes: Uint8Array,
  options?: DecodeOptions,
): { value: BencodeValue; end: number } {
  const decoder = new Decoder(bytes, options, false);
  const value = run(decoder);
  return { value, end: decoder.pos };
}

/**
 * Decodes like `decode` and also returns the exact byte span of every value, e.g. to hash the
 * original bytes of a torrent's `info` dictionary (BEP 3: the info-hash is "the sha1 hash of the
 * bencoded form of the info value from the metainfo file") even when lenient mode accepted a
 * non-canonical encoding that re-encoding would change.
 */
export function decodeWithSpans(
  bytes: Uint8Array,
  options?: DecodeOptions,
): { value: BencodeValue; span: BencodeSpan } {
  const decoder = new Decoder(bytes, options, true);
  const value = run(decoder);
  if (decoder.pos !== bytes.length) {
    throw new BencodeError('TRAILING_DATA', decoder.pos, 'bytes after the value');
  }
  return { value, span: decoder.span as BencodeSpan };
}

/**
 * Decodes `bytes` like `decode` (same options, same errors) and returns the span of the value at
 * `path` (keys as binary strings, list indexes as numbers), or `undefined` when there is none.
 * Only the spans on the path are recorded, so it runs at the speed of `decode`.
 */
export function decodeSpanAt(
  bytes: Uint8Array,
  path: readonly (string | number)[],
  options?: DecodeOptions,
): BencodeSpan | undefined {
  const decoder = new Decoder(bytes, options, false, path);
  run(decoder);
  if (decoder.pos !== bytes.length) {
    throw new BencodeError('TRAILING_DATA', decoder.pos, 'bytes after the value');
  }
  return path.length === 0 ? new Span(0, decoder.pos, undefined, undefined) : decoder.found;
}
