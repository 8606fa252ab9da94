/**
 * A fixed-length set of piece indices, stored the way BEP 3's `bitfield` message carries it:
 * "the high bit in the first byte corresponds to piece index 0. Bits that are cleared indicated a
 * missing piece, and set bits indicate a valid and available piece. Spare bits at the end are set
 * to zero."
 */
import { WireError } from './errors';

export class Bitfield {
  /** Number of pieces (bits) this bitfield describes. */
  readonly length: number;
  /** The wire bytes, ceil(length / 8) of them; spare bits are always zero. */
  readonly bytes: Uint8Array;
  #count = 0;

  constructor(length: number) {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`Bitfield length must be a non-negative integer, got ${length}`);
    }
    this.length = length;
    this.bytes = new Uint8Array(byteLengthFor(length));
  }

  /**
   * Reads a bitfield received from a peer. Throws `WireError` `INVALID_BITFIELD_LENGTH` when the
   * byte count is not ceil(length / 8), and `BITFIELD_SPARE_BITS` when a spare bit is set
   * (unless `allowSpareBits`, in which case they are cleared). The bytes are copied.
   */
  static fromBytes(
    bytes: Uint8Array,
    length: number,
    options: { allowSpareBits?: boolean } = {},
  ): Bitfield {
    const field = new Bitfield(length);
    if (bytes.length !== field.bytes.length) {
      throw new WireError(
        'INVALID_BITFIELD_LENGTH',
        `bitfield has ${bytes.length} bytes, expected ${field.bytes.length} for ${length} pieces`,
      );
    }
    field.bytes.set(bytes);
    const spare = spareMask(length);
    const lastIndex = field.bytes.length - 1;
    if (spare !== 0 && lastIndex >= 0 && (field.bytes[lastIndex]! & spare) !== 0) {
      if (!options.allowSpareBits) {
        throw new WireError('BITFIELD_SPARE_BITS', 'bitfield has spare bits set');
      }
      field.bytes[lastIndex]! &= ~spare & 0xff;
    }
    field.#count = popcount(field.bytes);
    return field;
  }

  /** A bitfield with every piece set (what `have all` announces). */
  static full(length: number): Bitfield {
    const field = new Bitfield(length);
    field.setAll();
    return field;
  }

  /** Number of set bits. */
  get count(): number {
    return this.#count;
  }

  /** True when every piece is set (also true for a zero-length bitfield). */
  get complete(): boolean {
    return this.#count === this.length;
  }

  /** True when no piece is set. */
  get empty(): boolean {
    return this.#count === 0;
  }

  has(index: number): boolean {
    if (!this.#inRange(index)) return false;
    return (this.bytes[index >>> 3]! & (0x80 >>> (index & 7))) !== 0;
  }

  /** Sets or clears one bit. Returns true when the bit changed. */
  set(index: number, value = true): boolean {
    if (!this.#inRange(index)) {
      throw new RangeError(`piece index ${index} out of range 0..${this.length - 1}`);
    }
    const byte = index >>> 3;
    const mask = 0x80 >>> (index & 7);
    const current = (this.bytes[byte]! & mask) !== 0;
    if (current === value) return false;
    if (value) {
      this.bytes[byte]! |= mask;
      this.#count++;
    } else {
      this.bytes[byte]! &= ~mask & 0xff;
      this.#count--;
    }
    return true;
  }

  /** Clears one bit. Returns true when the bit changed. */
  clear(index: number): boolean {
    return this.set(index, false);
  }

  /** Sets every bit (spare bits stay zero). */
  setAll(): void {
    this.bytes.fill(0xff);
    const spare = spareMask(this.length);
    if (this.bytes.length > 0) this.bytes[this.bytes.length - 1]! &= ~spare & 0xff;
    this.#count = this.length;
  }

  /** Clears every bit. */
  clearAll(): void {
    this.bytes.fill(0);
    this.#count = 0;
  }

  /** Replaces the contents with another bitfield of the same length. */
  copyFrom(other: Bitfield): void {
    if (other.length !== this.length) {
      throw new RangeError(`bitfield length ${other.length} differs from ${this.length}`);
    }
    this.bytes.set(other.bytes);
    this.#count = other.count;
  }

  clone(): Bitfield {
    const copy = new Bitfield(this.length);
    copy.copyFrom(this);
    return copy;
  }

  /** The set piece indices in increasing order. */
  *indices(): IterableIterator<number> {
    for (let byte = 0; byte < this.bytes.length; byte++) {
      const value = this.bytes[byte]!;
      if (value === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if ((value & (0x80 >>> bit)) !== 0) yield byte * 8 + bit;
      }
    }
  }

  /** A copy of the wire bytes (for a `bitfield` message). */
  toBytes(): Uint8Array {
    return this.bytes.slice();
  }

  #inRange(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.length;
  }
}

/** ceil(pieceCount / 8): the byte length of a bitfield for `pieceCount` pieces. */
export function byteLengthFor(pieceCount: number): number {
  return Math.ceil(pieceCount / 8);
}

/** Mask of the spare bits in the last byte of a bitfield of `length` bits. */
function spareMask(length: number): number {
  const used = length & 7;
  return used === 0 ? 0 : 0xff >>> used;
}

function popcount(bytes: Uint8Array): number {
  let total = 0;
  for (const byte of bytes) {
    let v = byte;
    v = v - ((v >>> 1) & 0x55);
    v = (v & 0x33) + ((v >>> 2) & 0x33);
    total += (v + (v >>> 4)) & 0x0f;
  }
  return total;
}
