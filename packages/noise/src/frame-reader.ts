/**
 * Noise messages on a byte stream: each one is prefixed by its length as a 16-bit big-endian
 * integer (spec section 13, "Length fields"; the noise-libp2p wire format). `FrameReader`
 * pulls chunks from a transport stream into @peerkit/framing's `FrameDecoder` (`'uint16be'`
 * prefix), which returns messages as views of the chunks. `readFrame` copies a message that
 * straddles chunk boundaries into one buffer (the handshake wants whole messages);
 * `readFrameParts` hands it over as the list of its views instead (the transport phase
 * decrypts them piece by piece, so a 65,537-byte message spanning two TCP reads is never
 * joined). Memory is bounded by the read-ahead (see `READ_AHEAD_BYTES`).
 */
import { encodeFrame as encodeFramingFrame, FrameDecoder, isFramingError } from '@peerkit/framing';
import { MAX_MESSAGE_LENGTH } from './crypto';
import { NoiseError } from './errors';

export const LENGTH_PREFIX = 2;

/**
 * Writes the 2-byte big-endian length prefix of a `length`-byte message at `offset` (the hot
 * path builds prefix + ciphertext + tag in one preallocated buffer).
 */
export function writeLengthPrefix(out: Uint8Array, offset: number, length: number): void {
  out[offset] = length >>> 8;
  out[offset + 1] = length & 0xff;
}

/** One message with its length prefix, as a single buffer. */
export function encodeFrame(message: Uint8Array): Uint8Array {
  if (message.length > MAX_MESSAGE_LENGTH) {
    throw new NoiseError('MESSAGE_TOO_LARGE', `Noise message of ${message.length} bytes > 65535`);
  }
  return encodeFramingFrame(message, { prefix: 'uint16be', maxFrameSize: MAX_MESSAGE_LENGTH });
}

/**
 * Bytes the reader may pull from the transport ahead of its consumer. Without read-ahead a
 * transport with a 64 KiB buffer would pause and resume for every 65,537-byte message (each
 * spans two reads); with it the socket keeps flowing while messages are being decrypted.
 * Backpressure still holds: past this many buffered bytes nothing more is read.
 */
export const READ_AHEAD_BYTES = 256 * 1024;

export class FrameReader {
  readonly #source: AsyncIterator<Uint8Array>;
  readonly #decoder = new FrameDecoder({ prefix: 'uint16be', maxFrameSize: MAX_MESSAGE_LENGTH });
  #ended = false;
  #error: unknown;
  #hasError = false;
  /** The one `source.next()` in flight, if any. */
  #pulling: Promise<void> | undefined;

  constructor(source: AsyncIterator<Uint8Array>) {
    this.#source = source;
  }

  /** The next complete message already buffered, or `undefined`. Never waits. */
  tryFrame(): Uint8Array | undefined {
    return this.#guard(() => this.#decoder.next());
  }

  /**
   * Like `tryFrame`, but a message spanning chunks comes as its views, in order (no copy). Taking
   * a message keeps the read-ahead going, as `readFrameParts` does.
   */
  tryFrameParts(): Uint8Array[] | undefined {
    const parts = this.#guard(() => this.#decoder.nextParts());
    if (parts !== undefined) this.#readAhead();
    return parts;
  }

  /** Runs a decoder call, turning its `FramingError`s into `NoiseError`s. */
  #guard<T>(call: () => T): T {
    try {
      return call();
    } catch (cause) {
      if (isFramingError(cause) && cause.code === 'TRUNCATED') {
        throw new NoiseError('TRUNCATED', 'the stream ended inside a Noise message', { cause });
      }
      throw new NoiseError('BAD_MESSAGE', 'unreadable message framing', { cause });
    }
  }

  /**
   * The next message; `undefined` when the source ended exactly on a message boundary.
   * Throws `TRUNCATED` when it ended inside a message, and whatever the source throws.
   */
  readFrame(): Promise<Uint8Array | undefined> {
    return this.#read(() => this.tryFrame());
  }

  /**
   * Like `readFrame`, but the message comes as a list of views whose lengths add up to its
   * length: one view when it lies in one chunk, one per chunk touched when it spans chunks.
   */
  readFrameParts(): Promise<Uint8Array[] | undefined> {
    return this.#read(() => this.tryFrameParts());
  }

  async #read<T>(take: () => T | undefined): Promise<T | undefined> {
    for (;;) {
      const frame = take();
      if (frame !== undefined) {
        this.#readAhead();
        return frame;
      }
      if (this.#hasError) throw this.#error;
      if (this.#ended) return undefined;
      await this.#pull();
    }
  }

  /** Pulls one chunk from the source (joining the pull already in flight, if any). */
  #pull(): Promise<void> {
    this.#pulling ??= this.#source.next().then(
      (next) => {
        this.#pulling = undefined;
        if (next.done) {
          this.#ended = true;
          try {
            this.#guard(() => this.#decoder.end());
          } catch (error) {
            this.#fail(error);
          }
        } else {
          this.#decoder.push(next.value);
          this.#readAhead();
        }
      },
      (error: unknown) => {
        this.#pulling = undefined;
        this.#ended = true;
        this.#fail(error);
      },
    );
    return this.#pulling;
  }

  #fail(error: unknown): void {
    if (this.#hasError) return;
    this.#hasError = true;
    this.#error = error;
  }

  /** Keeps one pull in flight while less than `READ_AHEAD_BYTES` wait in the decoder. */
  #readAhead(): void {
    if (this.#ended || this.#pulling !== undefined) return;
    if (this.#decoder.bufferedBytes >= READ_AHEAD_BYTES) return;
    void this.#pull();
  }
}
