/**
 * A growable writer for Bitcoin's serialization: little-endian integers, CompactSize
 * (developer reference, "CompactSize Unsigned Integers") and length-prefixed bytes.
 */
import { LedgerError } from '../errors';

/** How many bytes the CompactSize encoding of `n` takes (1, 3, 5 or 9). */
export function compactSizeLength(n: number): number {
  if (n < 0xfd) return 1;
  if (n <= 0xffff) return 3;
  if (n <= 0xffffffff) return 5;
  return 9;
}

export class Writer {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#buf.buffer);
  }

  #reserve(n: number): number {
    const need = this.#len + n;
    if (need > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.#len;
    this.#len = need;
    return at;
  }

  u8(v: number): this {
    const at = this.#reserve(1);
    this.#view.setUint8(at, v);
    return this;
  }
  u16le(v: number): this {
    const at = this.#reserve(2);
    this.#view.setUint16(at, v, true);
    return this;
  }
  u16be(v: number): this {
    const at = this.#reserve(2);
    this.#view.setUint16(at, v, false);
    return this;
  }
  u32le(v: number): this {
    const at = this.#reserve(4);
    this.#view.setUint32(at, v >>> 0, true);
    return this;
  }
  i32le(v: number): this {
    const at = this.#reserve(4);
    this.#view.setInt32(at, v | 0, true);
    return this;
  }
  u64le(v: bigint): this {
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, BigInt.asUintN(64, v), true);
    return this;
  }
  i64le(v: bigint): this {
    const at = this.#reserve(8);
    this.#view.setBigInt64(at, BigInt.asIntN(64, v), true);
    return this;
  }
  bytes(b: Uint8Array): this {
    const at = this.#reserve(b.length);
    this.#buf.set(b, at);
    return this;
  }
  /** CompactSize, always in its shortest (canonical) form. */
  compactSize(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new LedgerError('LIMIT', `bad CompactSize ${n}`);
    if (n < 0xfd) return this.u8(n);
    if (n <= 0xffff) return this.u8(0xfd).u16le(n);
    if (n <= 0xffffffff) return this.u8(0xfe).u32le(n);
    return this.u8(0xff).u64le(BigInt(n));
  }
  varBytes(b: Uint8Array): this {
    return this.compactSize(b.length).bytes(b);
  }
  varString(s: string): this {
    return this.varBytes(new Uint8Array(Buffer.from(s, 'utf8')));
  }
  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }
  /** The bytes written so far, without copying (valid until the next write or `reset`). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
  /** Forgets what was written, keeping the buffer (for a scratch writer reused in a hot path). */
  reset(): this {
    this.#len = 0;
    return this;
  }
  /** The bytes written (a copy sized exactly; the writer may be reused afterwards). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
