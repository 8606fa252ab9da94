/**
 * A bounds-checked reader over Bitcoin's serialization (developer reference, "Protocol
 * Messages: CompactSize Unsigned Integers"; integers are little-endian unless named `be`).
 * Every method throws `LedgerError('DECODE')` when the input is too short or malformed, so a
 * decoder built from it is total.
 */
import { LedgerError } from '../errors';

/** Core's MAX_SIZE (serialize.h): the largest CompactSize a length may carry. */
export const MAX_COMPACT_SIZE = 0x02000000;

export class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #take(n: number): number {
    if (n > this.#bytes.length - this.#offset) {
      throw new LedgerError(
        'DECODE',
        `unexpected end of data: need ${n} bytes at offset ${this.#offset}, have ${this.remaining}`,
      );
    }
    const at = this.#offset;
    this.#offset += n;
    return at;
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }
  u16le(): number {
    return this.#view.getUint16(this.#take(2), true);
  }
  u16be(): number {
    return this.#view.getUint16(this.#take(2), false);
  }
  u32le(): number {
    return this.#view.getUint32(this.#take(4), true);
  }
  i32le(): number {
    return this.#view.getInt32(this.#take(4), true);
  }
  u64le(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }
  i64le(): bigint {
    return this.#view.getBigInt64(this.#take(8), true);
  }

  /** `n` bytes as a subarray of the input (no copy). */
  bytes(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0) throw new LedgerError('DECODE', `bad length ${n}`);
    const at = this.#take(n);
    return this.#bytes.subarray(at, at + n);
  }

  /** A 32-byte hash in internal byte order. */
  hash(): Uint8Array {
    return this.bytes(32);
  }

  /**
   * A CompactSize unsigned integer. Non-canonical encodings (a longer form for a value the
   * shorter form holds) are rejected, as Core's ReadCompactSize does, and so is a value above
   * `max` (default MAX_SIZE, 0x02000000), before anything is allocated for it.
   */
  compactSize(max: number = MAX_COMPACT_SIZE): number {
    const first = this.u8();
    let value: number;
    if (first < 0xfd) {
      value = first;
    } else if (first === 0xfd) {
      value = this.u16le();
      if (value < 0xfd) throw new LedgerError('DECODE', 'non-canonical CompactSize');
    } else if (first === 0xfe) {
      value = this.u32le();
      if (value < 0x10000) throw new LedgerError('DECODE', 'non-canonical CompactSize');
    } else {
      const big = this.u64le();
      if (big < 0x100000000n) throw new LedgerError('DECODE', 'non-canonical CompactSize');
      if (big > BigInt(max))
        throw new LedgerError('DECODE', `CompactSize ${big} above limit ${max}`);
      value = Number(big);
    }
    if (value > max) throw new LedgerError('DECODE', `CompactSize ${value} above limit ${max}`);
    return value;
  }

  /** A CompactSize length (at most `max`) followed by that many bytes (a subarray). */
  varBytes(max: number): Uint8Array {
    const n = this.compactSize(Math.min(max, MAX_COMPACT_SIZE));
    return this.bytes(n);
  }

  /** A CompactSize-prefixed string (at most `max` bytes), decoded as UTF-8. */
  varString(max: number): string {
    return Buffer.from(this.varBytes(max)).toString('utf8');
  }

  /** Throws `DECODE` unless every byte was consumed. */
  end(): void {
    if (this.remaining !== 0) throw new LedgerError('DECODE', `${this.remaining} trailing bytes`);
  }
}
