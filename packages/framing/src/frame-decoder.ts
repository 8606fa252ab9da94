/**
 * The streaming frame decoder: bytes in, in chunks of any size; whole frames out.
 *
 * - A frame that lies inside one pushed chunk is returned as a `subarray` view of that chunk
 *   (no copy). Only a frame that spans chunks is copied, once, into a buffer of its exact size.
 *   Two zero-copy alternatives: `nextParts()` returns a spanning frame as the list of its views
 *   instead of copying it, and `decodeEach(chunk, visit)` visits frames as (chunk, start, end)
 *   without even making a view (for `codec.decodeRange`).
 * - The length prefix is checked against `maxFrameSize` as soon as it is complete, before any
 *   memory for the frame is taken. Bytes of an unfinished frame are held as views of the chunks
 *   they arrived in, so memory grows with what the peer actually sent, not with what it announced.
 * - After a `FramingError` the decoder stays failed (the stream cannot be resynchronised) and
 *   every later call throws the same error.
 *
 * The decoder keeps references to pushed chunks until their frames are returned: do not modify
 * a chunk after pushing it.
 */
import { FramingError } from './errors';
import { type FrameOptions, type PrefixKind, resolveFrameOptions } from './prefix';

const EMPTY = new Uint8Array(0);

/** What `advance` found. */
const NONE = 0;
const IN_PLACE = 1;
const JOINED = 2;
const PARTS = 3;
type Found = typeof NONE | typeof IN_PLACE | typeof JOINED | typeof PARTS;

/** How `advance` hands over a frame that spans chunks. */
const EXACT_COPY = 0; // a copy in a buffer of its own (`next`)
const VIEWS = 1; // the views, no copy (`nextParts`)
const POOLED_COPY = 2; // a copy in a shared slab (`decodeEach`)
type Spanning = typeof EXACT_COPY | typeof VIEWS | typeof POOLED_COPY;

/**
 * `decodeEach` copies small spanning frames into slabs of this size, one after the other, and
 * never reuses a slab: what it visited stays valid. Allocating one buffer per such frame (and
 * msgpackr meeting a new buffer each time) costs more than the copy itself.
 */
const SLAB_SIZE = 16 * 1024;

/** 2^(7*i): the weight of the i-th 7-bit group of a varint (no 32-bit overflow). */
const VARINT_WEIGHT = [1, 2 ** 7, 2 ** 14, 2 ** 21, 2 ** 28] as const;

export class FrameDecoder {
  readonly prefix: PrefixKind;
  readonly maxFrameSize: number;

  /** The chunk being read and the read position in it. */
  private chunk: Uint8Array = EMPTY;
  private pos = 0;
  /** Chunks pushed while `chunk` still had unread bytes. */
  private readonly queue: Uint8Array[] = [];
  /** A prefix split across chunks: its value so far and how many of its bytes were read. */
  private prefixValue = 0;
  private prefixBytes = 0;
  /** Length of the frame whose body is being read, or -1 while reading a prefix. */
  private frameLength = -1;
  /** Body bytes of a frame that spans chunks (views of the chunks). */
  private parts: Uint8Array[] = [];
  private partsBytes = 0;
  private ended = false;
  private failure: FramingError | undefined;
  /** The frame found by `advance` (see there). */
  private outBytes: Uint8Array = EMPTY;
  private outStart = 0;
  private outEnd = 0;
  private outParts: Uint8Array[] = [];
  /** `decodeEach`'s slab for small spanning frames (see `SLAB_SIZE`) and its used bytes. */
  private readonly slabSize: number;
  private slab: Uint8Array = EMPTY;
  private slabUsed = 0;

  constructor(options?: FrameOptions) {
    const resolved = resolveFrameOptions(options);
    this.prefix = resolved.prefix;
    this.maxFrameSize = resolved.maxFrameSize;
    // Never more than 8 frames' worth: the slab stays within the frame size limit's scale.
    this.slabSize = Math.min(SLAB_SIZE, 8 * this.maxFrameSize);
  }

  /** Adds received bytes. Take the frames they complete with {@link next}. */
  push(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (this.ended) throw new FramingError('ENDED', 'push() after end()');
    if (chunk.length === 0) return;
    if (this.pos >= this.chunk.length && this.queue.length === 0) {
      this.chunk = chunk;
      this.pos = 0;
    } else {
      this.queue.push(chunk);
    }
  }

  /**
   * The next complete frame, or `undefined` when more bytes are needed. Throws `FramingError`
   * (`FRAME_TOO_LARGE`, `BAD_VARINT`; `TRUNCATED` after {@link end} if a frame is unfinished).
   */
  next(): Uint8Array | undefined {
    const found = this.advance(EXACT_COPY);
    if (found === NONE) return undefined;
    if (found === JOINED) return this.outBytes;
    return this.outBytes.subarray(this.outStart, this.outEnd);
  }

  /**
   * The next complete frame as a list of views of the pushed chunks, zero-copy, or
   * `undefined` when more bytes are needed. A frame inside one chunk is a single view; a frame
   * that spans chunks is one view per chunk it touches, in order (their lengths add up to the
   * frame's length). Use it where the consumer can take the bytes in pieces (a streaming
   * cipher, a hash, a file write) to avoid the copy that {@link next} makes of a spanning frame.
   * Throws like {@link next}. `next`, `nextParts` and `decodeEach` can be mixed freely.
   */
  nextParts(): Uint8Array[] | undefined {
    const found = this.advance(VIEWS);
    if (found === NONE) return undefined;
    if (found === PARTS) {
      const parts = this.outParts;
      this.outParts = [];
      return parts;
    }
    return [this.outBytes.subarray(this.outStart, this.outEnd)];
  }

  /** Pushes `chunk` and returns every frame it completes. */
  decode(chunk: Uint8Array): Uint8Array[] {
    this.push(chunk);
    const frames: Uint8Array[] = [];
    for (let frame = this.next(); frame !== undefined; frame = this.next()) frames.push(frame);
    return frames;
  }

  /**
   * Pushes `chunk` and calls `visit(bytes, start, end)` for every frame it completes, in order;
   * the frame is `bytes[start, end)`. Returns the number of frames visited.
   *
   * Nothing is allocated per frame: a frame inside one chunk is visited in place (`bytes` is
   * that chunk). Only a frame that spans chunks is copied, once: up to 2 KiB (at most
   * `maxFrameSize`) into the free end of a 16 KiB slab that later frames never overwrite, so
   * what was visited stays valid (a view kept of it keeps its slab alive); a larger one into a
   * buffer of its own. Pair it with `codec.decodeRange(bytes, start, end)`. If `visit`
   * throws, the error propagates; that frame counts as taken and the frames after it stay
   * available to the next call of `next()` / `decodeEach()`.
   */
  decodeEach(
    chunk: Uint8Array,
    visit: (bytes: Uint8Array, start: number, end: number) => void,
  ): number {
    this.push(chunk);
    let count = 0;
    while (this.advance(POOLED_COPY) !== NONE) {
      count++;
      visit(this.outBytes, this.outStart, this.outEnd);
    }
    return count;
  }

  /**
   * Declares the end of the input. Throws `FramingError` `TRUNCATED` if the bytes held are an
   * unfinished frame. Complete frames not taken yet stay available from {@link next}, which
   * throws `TRUNCATED` once it reaches an unfinished tail.
   */
  end(): void {
    if (this.failure) throw this.failure;
    this.ended = true;
    if (this.pos >= this.chunk.length && this.queue.length === 0) this.needMore();
  }

  /** Bytes held for frames not returned yet (a fully parsed prefix is not held). */
  get bufferedBytes(): number {
    let n = this.chunk.length - this.pos + this.partsBytes + this.prefixBytes;
    for (const c of this.queue) n += c.length;
    return n;
  }

  /**
   * Finds the next complete frame and leaves it in `outBytes[outStart, outEnd)` (`IN_PLACE`:
   * a range of the current chunk; `JOINED`: a copy of a frame that spanned chunks, made as
   * `spanning` says), or a spanning frame as views in `outParts` (`PARTS`, when `spanning` is
   * `VIEWS`). `NONE` when more bytes are needed.
   */
  private advance(spanning: Spanning): Found {
    if (this.failure) throw this.failure;
    for (;;) {
      if (this.frameLength < 0 && !this.readPrefix()) return this.needMore();
      const length = this.frameLength;
      const chunk = this.chunk;
      const pos = this.pos;
      const available = chunk.length - pos;
      if (this.partsBytes === 0 && available >= length) {
        // The whole frame is inside this chunk: no view, no copy.
        this.pos = pos + length;
        this.frameLength = -1;
        this.outBytes = chunk;
        this.outStart = pos;
        this.outEnd = pos + length;
        return IN_PLACE;
      }
      const missing = length - this.partsBytes;
      if (available >= missing) {
        this.parts.push(chunk.subarray(pos, pos + missing));
        this.pos = pos + missing;
        if (spanning === VIEWS) {
          this.outParts = this.parts;
          this.parts = [];
          this.partsBytes = 0;
          this.frameLength = -1;
          return PARTS;
        }
        this.joinParts(spanning === POOLED_COPY);
        return JOINED;
      }
      if (available > 0) {
        this.parts.push(available === chunk.length ? chunk : chunk.subarray(pos));
        this.partsBytes += available;
      }
      this.pos = chunk.length;
      if (!this.nextChunk()) return this.needMore();
    }
  }

  /** Reads (the rest of) a length prefix. False when the input ran out first. */
  private readPrefix(): boolean {
    const chunk = this.chunk;
    const pos = this.pos;
    // Fast paths: the whole prefix is inside the current chunk.
    if (this.prefixBytes === 0) {
      const available = chunk.length - pos;
      if (this.prefix === 'uint32be' && available >= 4) {
        this.pos = pos + 4;
        return this.setLength(
          chunk[pos]! * 0x1000000 +
            ((chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]!),
        );
      }
      if (this.prefix === 'uint16be' && available >= 2) {
        this.pos = pos + 2;
        return this.setLength((chunk[pos]! << 8) | chunk[pos + 1]!);
      }
      if (this.prefix === 'varint' && available >= 1 && chunk[pos]! < 0x80) {
        this.pos = pos + 1;
        return this.setLength(chunk[pos]!);
      }
    }
    // Slow path: one byte at a time, across chunks.
    for (;;) {
      if (this.pos >= this.chunk.length && !this.nextChunk()) return false;
      const byte = this.chunk[this.pos++]!;
      if (this.prefix === 'varint') {
        if (this.readVarintByte(byte)) return true;
      } else {
        this.prefixValue = this.prefixValue * 256 + byte;
        this.prefixBytes++;
        if (this.prefixBytes === (this.prefix === 'uint32be' ? 4 : 2)) {
          const length = this.prefixValue;
          this.prefixValue = 0;
          this.prefixBytes = 0;
          return this.setLength(length);
        }
      }
    }
  }

  /** Unsigned LEB128, at most 5 bytes, at most 2^32-1, minimal. True when complete. */
  private readVarintByte(byte: number): boolean {
    const index = this.prefixBytes;
    if (index === 4 && byte > 0x0f) {
      this.fail(
        'BAD_VARINT',
        byte & 0x80 ? 'varint longer than 5 bytes' : 'varint length above 2^32-1',
      );
    }
    this.prefixValue += (byte & 0x7f) * VARINT_WEIGHT[index]!;
    this.prefixBytes = index + 1;
    if (byte & 0x80) return false;
    if (byte === 0 && index > 0) this.fail('BAD_VARINT', 'varint is not minimally encoded');
    const length = this.prefixValue;
    this.prefixValue = 0;
    this.prefixBytes = 0;
    return this.setLength(length);
  }

  private setLength(length: number): true {
    if (length > this.maxFrameSize) {
      this.fail(
        'FRAME_TOO_LARGE',
        `frame of ${length} bytes exceeds maxFrameSize ${this.maxFrameSize}`,
      );
    }
    this.frameLength = length;
    return true;
  }

  /** Moves to the next queued chunk; false if there is none. */
  private nextChunk(): boolean {
    const next = this.queue.shift();
    if (next === undefined) {
      this.chunk = EMPTY;
      this.pos = 0;
      return false;
    }
    this.chunk = next;
    this.pos = 0;
    return true;
  }

  /**
   * Copies a frame that spanned chunks into `outBytes[outStart, outEnd)`: a buffer of its exact
   * size, or with `pooled` (and a frame of at most 1/8 of the slab) the free end of the slab.
   */
  private joinParts(pooled: boolean): void {
    const length = this.frameLength;
    let target: Uint8Array;
    let offset = 0;
    if (pooled && length <= this.slabSize >>> 3) {
      if (this.slab.length - this.slabUsed < length) {
        this.slab = new Uint8Array(this.slabSize);
        this.slabUsed = 0;
      }
      target = this.slab;
      offset = this.slabUsed;
      this.slabUsed += length;
    } else {
      target = new Uint8Array(length);
    }
    this.outBytes = target;
    this.outStart = offset;
    this.outEnd = offset + length;
    for (const part of this.parts) {
      target.set(part, offset);
      offset += part.length;
    }
    this.parts = [];
    this.partsBytes = 0;
    this.frameLength = -1;
  }

  /** Out of input: `NONE`, or `TRUNCATED` if the input has ended inside a frame. */
  private needMore(): typeof NONE {
    this.outBytes = EMPTY; // hold no chunk longer than its frames need it
    if (this.ended && (this.frameLength >= 0 || this.prefixBytes > 0)) {
      this.fail('TRUNCATED', 'input ended inside a frame');
    }
    return NONE;
  }

  private fail(code: 'FRAME_TOO_LARGE' | 'BAD_VARINT' | 'TRUNCATED', message: string): never {
    this.failure = new FramingError(code, message);
    throw this.failure;
  }
}
