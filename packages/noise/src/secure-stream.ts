/**
 * The transport phase of the secure channel: a `Stream` (the same interface as
 * @peerkit/transport's) whose bytes travel as Noise transport messages, each prefixed by its
 * 2-byte big-endian length.
 *
 * - Writes are cut into messages of at most 65,519 plaintext bytes (65,535 with the tag),
 *   encrypted straight into one output buffer per batch (prefix + ciphertext + tag), and
 *   handed to the transport stream as one write; a write settles when the transport took
 *   every batch but the newest, so backpressure reaches the caller while the next batch is
 *   sealed during the send of the previous one. Writes smaller than 4 KiB in the same
 *   microtask are merged into one message.
 * - `end()` sends an authenticated end marker (an empty transport message) before ending the
 *   transport stream, so a reader can tell an orderly end from a truncation by an attacker
 *   (spec section 13, "Session termination"); an end without it raises `TRUNCATED`.
 * - Any failure (decryption, malformed message, nonce exhaustion, truncation) destroys the
 *   stream; a message's plaintext is only returned after its tag verified.
 * - Receiving never joins a message that spans transport reads (a 65,537-byte message always
 *   spans two 64 KiB reads): its pieces are decrypted one by one with a streaming decipher and
 *   handed to the reader as separate chunks, after the tag verified.
 */
import { type Address, type Stream, TransportError } from '@peerkit/transport';
import type { CipherState } from './cipher-state';
import { MAX_MESSAGE_LENGTH, TAGLEN } from './crypto';
import { isNoiseError, NoiseError } from './errors';
import { type FrameReader, LENGTH_PREFIX, writeLengthPrefix } from './frame-reader';

/** The largest plaintext of one transport message: 65,535 - 16. */
export const MAX_PLAINTEXT = MAX_MESSAGE_LENGTH - TAGLEN;
/** Writes below this size are merged with their neighbours of the same microtask. */
const BATCH_BELOW = 4096;
/** Messages per transport write for large writes (about 1 MiB). */
const MESSAGES_PER_WRITE = 16;

const EMPTY = new Uint8Array(0);

export interface SecureStreamInit {
  stream: Stream;
  reader: FrameReader;
  send: CipherState;
  receive: CipherState;
  remoteIdentity: Uint8Array;
  handshakeHash: Uint8Array;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function ignore(): void {}

export class SecureStream implements Stream {
  /** The remote peer's Ed25519 identity public key, verified during the handshake. */
  readonly remoteIdentity: Uint8Array;
  /** The Noise handshake hash `h`, usable for channel binding (spec section 11.2). */
  readonly handshakeHash: Uint8Array;
  readonly closed: Promise<TransportError | undefined>;

  readonly #stream: Stream;
  readonly #reader: FrameReader;
  readonly #send: CipherState;
  readonly #receive: CipherState;
  #iterated = false;
  #ending = false;
  #destroyed = false;
  #destroyError: Error | undefined;
  #failure: Error | undefined;
  #batch: Uint8Array | undefined;
  #batchLength = 0;
  #batchDone: Deferred | undefined;
  /** The newest transport write (see `#sendMessages`). */
  #lastWrite: Promise<void> = Promise.resolve();
  /** The first transport write failure. */
  #writeError: unknown;

  constructor(init: SecureStreamInit) {
    this.#stream = init.stream;
    this.#reader = init.reader;
    this.#send = init.send;
    this.#receive = init.receive;
    this.remoteIdentity = init.remoteIdentity;
    this.handshakeHash = init.handshakeHash;
    this.closed = init.stream.closed.then((error) => {
      const failure = this.#failure;
      if (failure === undefined || failure instanceof TransportError) return error;
      // The Stream contract speaks TransportError; the NoiseError rides along as `cause`.
      return new TransportError('IO', failure.message, { cause: failure });
    });
  }

  get localAddress(): Address {
    return this.#stream.localAddress;
  }

  get remoteAddress(): Address {
    return this.#stream.remoteAddress;
  }

  /** The error that broke the channel, if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Records the first failure and destroys the transport stream with it. */
  #fail(error: unknown): Error {
    const e = error instanceof Error ? error : new NoiseError('INVALID_STATE', String(error));
    if (this.#failure === undefined) {
      this.#failure = e;
      this.#batchDone?.reject(e);
      this.#batchDone = undefined;
      this.#batchLength = 0;
      this.#stream.destroy(e);
    }
    return this.#failure;
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#ending || this.#destroyed) {
      return Promise.reject(new TransportError('CLOSED', 'write after end() or destroy()'));
    }
    if (data.length === 0) return this.#batchDone?.promise ?? Promise.resolve();
    if (data.length < BATCH_BELOW) return this.#addToBatch(data);
    this.#flushBatch();
    return this.#sendMessages(data);
  }

  #addToBatch(data: Uint8Array): Promise<void> {
    if (this.#batchLength + data.length > MAX_PLAINTEXT) this.#flushBatch();
    this.#batch ??= new Uint8Array(MAX_PLAINTEXT);
    this.#batch.set(data, this.#batchLength);
    this.#batchLength += data.length;
    if (this.#batchDone === undefined) {
      this.#batchDone = deferred();
      queueMicrotask(() => this.#flushBatch());
    }
    return this.#batchDone.promise;
  }

  #flushBatch(): void {
    const done = this.#batchDone;
    if (done === undefined || this.#batch === undefined) return;
    this.#batchDone = undefined;
    const length = this.#batchLength;
    this.#batchLength = 0;
    // Encryption copies the batch into a fresh buffer, so the batch buffer is free again.
    this.#sendMessages(this.#batch.subarray(0, length)).then(done.resolve, done.reject);
  }

  /**
   * Encrypts `data` as transport messages, prefixed, in as few transport writes as sensible.
   * The returned promise settles when every transport write but the newest one is done: the
   * caller may seal its next batch while the previous one is still being sent (on two
   * machines, sealing and sending overlap instead of taking turns). Backpressure still holds,
   * the writer runs ahead of the transport by at most one batch (about 1 MiB).
   */
  #sendMessages(data: Uint8Array): Promise<void> {
    let last: Promise<void> = this.#lastWrite;
    try {
      for (let offset = 0; offset < data.length; ) {
        const end = Math.min(data.length, offset + MESSAGES_PER_WRITE * MAX_PLAINTEXT);
        const messages = Math.ceil((end - offset) / MAX_PLAINTEXT);
        const out = Buffer.allocUnsafe(end - offset + messages * (LENGTH_PREFIX + TAGLEN));
        let o = 0;
        for (let p = offset; p < end; p += MAX_PLAINTEXT) {
          const chunk = data.subarray(p, Math.min(p + MAX_PLAINTEXT, end));
          writeLengthPrefix(out, o, chunk.length + TAGLEN);
          o += LENGTH_PREFIX + this.#send.encryptWithAdInto(EMPTY, chunk, out, o + LENGTH_PREFIX);
        }
        last = this.#lastWrite;
        this.#lastWrite = this.#stream.write(out);
        this.#lastWrite.catch((error: unknown) => {
          this.#writeError ??= error;
        });
        offset = end;
      }
    } catch (error) {
      return Promise.reject(this.#fail(error));
    }
    // A transport write that failed already (or before `last` is done) fails this write too.
    return last.then(() => {
      if (this.#writeError !== undefined) throw this.#writeError;
    });
  }

  /** Sends the pending batch and the authenticated end marker, then ends the transport stream. */
  async end(): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#ending || this.#destroyed) return;
    this.#ending = true;
    this.#flushBatch();
    const marker = Buffer.allocUnsafe(LENGTH_PREFIX + TAGLEN);
    writeLengthPrefix(marker, 0, TAGLEN);
    try {
      this.#send.encryptWithAdInto(EMPTY, EMPTY, marker, LENGTH_PREFIX);
    } catch (error) {
      throw this.#fail(error);
    }
    this.#stream.write(marker).catch(ignore);
    await this.#stream.end();
  }

  destroy(error?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#destroyError = error;
    this.#batchDone?.reject(error ?? new TransportError('CLOSED', 'stream destroyed'));
    this.#batchDone = undefined;
    this.#batchLength = 0;
    this.#stream.destroy(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#iterated) throw new NoiseError('INVALID_STATE', 'a stream is read by one consumer');
    this.#iterated = true;
    return this.#read();
  }

  async *#read(): AsyncGenerator<Uint8Array, void, undefined> {
    let settled = false;
    try {
      for (;;) {
        const pieces = await this.#next();
        if (pieces === undefined) break;
        // One message's plaintext, authenticated as a whole, handed on piece by piece.
        for (const piece of pieces) {
          if (this.#destroyed) break;
          yield piece;
        }
        if (this.#destroyed) {
          this.#endAfterDestroy();
          break;
        }
      }
      settled = true;
    } catch (error) {
      settled = true;
      throw error;
    } finally {
      // A consumer that leaves its `for await` early gives the stream up (Stream contract).
      if (!settled) this.destroy();
    }
  }

  /**
   * The next message's plaintext as non-empty pieces (one per transport chunk the message
   * spanned: it is never joined), or `undefined` at the authenticated end (or after a local
   * destroy). The pieces are returned only once the whole message's tag verified.
   */
  async #next(): Promise<Uint8Array[] | undefined> {
    for (;;) {
      let message: Uint8Array[] | undefined;
      try {
        // A message already buffered is taken at once; only an incomplete one is awaited.
        message = this.#reader.tryFrameParts() ?? (await this.#reader.readFrameParts());
      } catch (error) {
        if (this.#destroyed) return this.#endAfterDestroy();
        if (isNoiseError(error)) throw this.#fail(error);
        throw error; // a transport failure: the transport stream is broken already
      }
      if (this.#destroyed) return this.#endAfterDestroy();
      if (this.#failure !== undefined) throw this.#failure;
      if (message === undefined) {
        throw this.#fail(new NoiseError('TRUNCATED', 'the stream ended without its end marker'));
      }
      let length = 0;
      for (const part of message) length += part.length;
      if (length < TAGLEN) {
        throw this.#fail(new NoiseError('BAD_MESSAGE', 'transport message shorter than its tag'));
      }
      let plaintext: Uint8Array[];
      try {
        plaintext = this.#receive.decryptPartsWithAd(EMPTY, message);
      } catch (error) {
        throw this.#fail(error);
      }
      if (length > TAGLEN) return plaintext;
      // The authenticated end marker: the transport stream must end right after it.
      await this.#expectEnd();
      return undefined;
    }
  }

  /** After the end marker, the transport stream must end too: nothing may follow it. */
  async #expectEnd(): Promise<void> {
    let next: Uint8Array | undefined;
    try {
      next = await this.#reader.readFrame();
    } catch (error) {
      if (this.#destroyed) return this.#endAfterDestroy();
      throw isNoiseError(error) ? this.#fail(error) : error;
    }
    if (next !== undefined && !this.#destroyed) {
      throw this.#fail(new NoiseError('BAD_MESSAGE', 'data after the end marker'));
    }
  }

  #endAfterDestroy(): undefined {
    if (this.#destroyError !== undefined) throw this.#destroyError;
    return undefined;
  }
}
