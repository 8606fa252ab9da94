/**
 * The bencode encoder (BEP 3). It writes into one growable buffer, sorts dictionary keys as
 * raw bytes, and rejects anything bencode cannot represent with a `BencodeError`.
 */
import { bytesToBinary } from './binary';
import { BencodeError } from './errors';
import { checkDepthOption, DEFAULT_MAX_DEPTH, isStackOverflow } from './limits';
import type { BencodeInput, EncodeOptions } from './types';

const COLON = 0x3a;
const MINUS = 0x2d;
const CHAR_0 = 0x30;
const CHAR_D = 0x64;
const CHAR_E = 0x65;
const CHAR_I = 0x69;
const CHAR_L = 0x6c;

const textEncoder = new TextEncoder();

/** Scratch space shared by calls (encode is synchronous); kept only while it is modest. */
const INITIAL_SIZE = 64 * 1024;
const KEEP_SIZE = 4 * 1024 * 1024;
let scratch: Uint8Array = new Uint8Array(INITIAL_SIZE);
let scratchBusy = false;

class Encoder {
  buf: Uint8Array;
  pos = 0;
  private depth = 0;
  private readonly maxDepth: number;

  constructor(buf: Uint8Array, maxDepth: number) {
    this.buf = buf;
    this.maxDepth = maxDepth;
  }

  private fail(code: BencodeError['code'], message: string): never {
    throw new BencodeError(code, this.pos, message);
  }

  /** Makes room for `n` more bytes. */
  private reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  value(v: BencodeInput): void {
    if (typeof v === 'number') this.number(v);
    else if (typeof v === 'bigint') this.ascii('i', v.toString());
    else if (typeof v === 'string') this.text(v);
    else if (v instanceof Uint8Array) this.bytes(v);
    else if (Array.isArray(v)) this.list(v);
    else if (v instanceof Map) this.map(v);
    else if (isPlainObject(v)) this.object(v as Record<string, BencodeInput | undefined>);
    else this.unsupported(v);
  }

  private unsupported(v: unknown): never {
    this.fail('UNSUPPORTED_TYPE', `bencode cannot represent ${describe(v)}`);
  }

  /** `i<n>e` for a safe integer, digits written without building a string. */
  private number(n: number): void {
    if (!Number.isSafeInteger(n)) {
      this.fail('INVALID_INTEGER', `not a safe integer: ${n} (use a bigint for large integers)`);
    }
    this.reserve(19);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = CHAR_I;
    if (n < 0) {
      buf[p++] = MINUS;
      n = -n;
    }
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    let q = p + digits;
    p = q;
    do {
      const d = n % 10;
      buf[--q] = CHAR_0 + d;
      n = (n - d) / 10;
    } while (n > 0);
    buf[p++] = CHAR_E;
    this.pos = p;
  }

  /** Writes `prefix`, then the ASCII text, then `e` (bigint integers). */
  private ascii(prefix: string, text: string): void {
    this.reserve(text.length + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = prefix.charCodeAt(0);
    for (let i = 0; i < text.length; i++) buf[p++] = text.charCodeAt(i);
    buf[p++] = CHAR_E;
    this.pos = p;
  }

  /** Writes `<length>:` (BEP 3 string prefix). */
  private lengthPrefix(length: number): void {
    this.reserve(17 + length);
    const buf = this.buf;
    let p = this.pos;
    let digits = 1;
    for (let t = length; t >= 10; t = Math.floor(t / 10)) digits++;
    let q = p + digits;
    p = q;
    do {
      const d = length % 10;
      buf[--q] = CHAR_0 + d;
      length = (length - d) / 10;
    } while (length > 0);
    buf[p++] = COLON;
    this.pos = p;
  }

  private bytes(b: Uint8Array): void {
    this.lengthPrefix(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A JS string value is written as its UTF-8 bytes (lone surrogates become U+FFFD). */
  private text(s: string): void {
    const n = s.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.lengthPrefix(n);
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
      this.pos = p;
      return;
    }
    this.bytes(textEncoder.encode(s) as Uint8Array);
  }

  /** A dictionary key: a binary string, one byte per char. */
  private key(k: string): void {
    const n = k.length;
    this.lengthPrefix(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = k.charCodeAt(i);
    this.pos = p;
  }

  private enter(): void {
    if (++this.depth > this.maxDepth)
      this.fail('DEPTH_LIMIT', 'nesting deeper than maxDepth (or a cycle)');
  }

  private list(items: readonly BencodeInput[]): void {
    this.enter();
    this.reserve(1);
    this.buf[this.pos++] = CHAR_L;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item === undefined)
        this.fail('UNSUPPORTED_TYPE', `bencode cannot represent undefined (list index ${i})`);
      this.value(item);
    }
    this.reserve(1);
    this.buf[this.pos++] = CHAR_E;
    this.depth--;
  }

  /** BEP 3: keys "appear in sorted order (sorted as raw strings, not alphanumerics)". */
  private object(dict: Record<string, BencodeInput | undefined>): void {
    this.enter();
    const keys = Object.keys(dict);
    for (const k of keys) checkKey(k, this.pos);
    // Binary strings compare char by char like their bytes, so the default sort is byte order.
    keys.sort();
    this.reserve(1);
    this.buf[this.pos++] = CHAR_D;
    for (const k of keys) {
      const v = dict[k];
      if (v === undefined) continue;
      this.key(k);
      this.value(v);
    }
    this.reserve(1);
    this.buf[this.pos++] = CHAR_E;
    this.depth--;
  }

  private map(dict: ReadonlyMap<string | Uint8Array, BencodeInput | undefined>): void {
    this.enter();
    const entries: [string, BencodeInput][] = [];
    for (const [k, v] of dict) {
      let key: string;
      if (typeof k === 'string') key = checkKey(k, this.pos);
      else if (k instanceof Uint8Array) key = bytesToBinary(k);
      else
        this.fail(
          'UNSUPPORTED_TYPE',
          `a Map key must be a string or a Uint8Array, not ${describe(k)}`,
        );
      if (v !== undefined) entries.push([key, v]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let i = 1; i < entries.length; i++) {
      if (
        (entries[i - 1] as [string, BencodeInput])[0] === (entries[i] as [string, BencodeInput])[0]
      ) {
        this.fail('DUPLICATE_KEY', 'two Map keys name the same bytes');
      }
    }
    this.reserve(1);
    this.buf[this.pos++] = CHAR_D;
    for (const [k, v] of entries) {
      this.key(k);
      this.value(v);
    }
    this.reserve(1);
    this.buf[this.pos++] = CHAR_E;
    this.depth--;
  }
}

/** A dictionary key string must be binary: every char ≤ U+00FF. */
function checkKey(k: string, offset: number): string {
  for (let i = 0; i < k.length; i++) {
    if (k.charCodeAt(i) > 0xff) {
      throw new BencodeError(
        'INVALID_KEY',
        offset,
        `dictionary key ${JSON.stringify(k)} has a char above U+00FF; keys are binary strings (pass a Uint8Array key in a Map for other bytes)`,
      );
    }
  }
  return k;
}

function isPlainObject(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

/**
 * Encodes `value` as canonical bencode (BEP 3): integers (`number` safe integers and `bigint`),
 * byte strings (`Uint8Array`; JS strings as UTF-8), lists (arrays) and dictionaries (plain
 * objects with binary-string keys, or `Map`s keyed by binary strings or `Uint8Array`s), keys
 * sorted as raw bytes. Dictionary entries whose value is `undefined` are left out.
 */
export function encode(value: BencodeInput, options?: EncodeOptions): Uint8Array {
  const maxDepth = checkDepthOption(options?.maxDepth ?? DEFAULT_MAX_DEPTH);
  const useScratch = !scratchBusy;
  const encoder = new Encoder(useScratch ? scratch : new Uint8Array(256), maxDepth);
  if (useScratch) scratchBusy = true;
  try {
    encoder.value(value);
    return encoder.buf.slice(0, encoder.pos);
  } catch (e) {
    if (isStackOverflow(e)) {
      throw new BencodeError('DEPTH_LIMIT', encoder.pos, 'nesting too deep for the call stack');
    }
    throw e;
  } finally {
    if (useScratch) {
      scratchBusy = false;
      if (encoder.buf.length <= KEEP_SIZE) scratch = encoder.buf;
    }
  }
}
