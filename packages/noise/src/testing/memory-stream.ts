/**
 * An in-memory, connected pair of transport `Stream`s for tests: ordered and reliable, with
 * backpressure (a write's promise waits while the reader lags more than `highWaterMark`
 * bytes) and a hook to see, change, drop, duplicate or reorder the bytes in flight.
 */
import { type Address, type Stream, TransportError } from '@peerkit/transport';

/** Rewrites the bytes one side writes, before the other side reads them. */
export interface Interceptor {
  /** Called for each written chunk; returns the chunks to deliver instead (any number). */
  onChunk(chunk: Uint8Array): Uint8Array[];
  /** Called when the writer ends; returns chunks still to deliver before the end. */
  onEnd?(): Uint8Array[];
}

export interface MemoryStreamPairOptions {
  /** Bytes in flight before `write()` waits for the reader (default 64 KiB). */
  highWaterMark?: number;
  /** Interceptor of the bytes `a` writes. */
  aToB?: Interceptor;
  /** Interceptor of the bytes `b` writes. */
  bToA?: Interceptor;
}

/** One direction of the pair. */
class Pipe {
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined;
  #reader: (() => void) | undefined;
  #drained: (() => void)[] = [];
  readonly highWaterMark: number;

  constructor(highWaterMark: number) {
    this.highWaterMark = highWaterMark;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    this.#wake();
  }

  /** Resolves once the reader has taken enough that the buffer is at or below the mark. */
  drained(): Promise<void> {
    if (this.#buffered <= this.highWaterMark || this.#error) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  end(): void {
    this.#ended = true;
    this.#wake();
  }

  abort(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    this.#chunks.length = 0;
    this.#buffered = 0;
    this.#wake();
    this.#releaseWriters();
  }

  #wake(): void {
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.();
  }

  #releaseWriters(): void {
    const writers = this.#drained;
    this.#drained = [];
    for (const w of writers) w();
  }

  async read(): Promise<IteratorResult<Uint8Array, undefined>> {
    for (;;) {
      if (this.#error) throw this.#error;
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        this.#buffered -= chunk.length;
        if (this.#buffered <= this.highWaterMark) this.#releaseWriters();
        return { done: false, value: chunk };
      }
      if (this.#ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => {
        this.#reader = resolve;
      });
    }
  }
}

let nextPort = 40000;

class MemoryStream implements Stream {
  readonly localAddress: Address;
  readonly remoteAddress: Address;
  readonly closed: Promise<TransportError | undefined>;
  #resolveClosed!: (e: TransportError | undefined) => void;
  #isClosed = false;
  #locallyDestroyed = false;
  #writeEnded = false;
  #readEnded = false;
  #error: TransportError | undefined;
  #iterated = false;
  peer!: MemoryStream;

  constructor(
    readonly incoming: Pipe,
    readonly outgoing: Pipe,
    readonly interceptor: Interceptor | undefined,
    local: Address,
    remote: Address,
  ) {
    this.localAddress = local;
    this.remoteAddress = remote;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  #close(error: TransportError | undefined): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#error = error;
    this.#resolveClosed(error);
  }

  #maybeClosed(): void {
    if (this.#writeEnded && this.#readEnded) this.#close(undefined);
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#locallyDestroyed || this.#writeEnded) {
      return Promise.reject(new TransportError('CLOSED', 'write after end or destroy'));
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#isClosed) {
      return Promise.reject(new TransportError('CLOSED', 'write after end or destroy'));
    }
    const chunks = this.interceptor ? this.interceptor.onChunk(data) : [data];
    for (const c of chunks) this.outgoing.push(c);
    return this.outgoing.drained().then(() => {
      if (this.#error) throw this.#error;
    });
  }

  async end(): Promise<void> {
    if (this.#writeEnded || this.#isClosed) return;
    this.#writeEnded = true;
    for (const c of this.interceptor?.onEnd?.() ?? []) this.outgoing.push(c);
    this.outgoing.end();
    this.#maybeClosed();
  }

  destroy(error?: Error): void {
    if (this.#isClosed) return;
    this.#locallyDestroyed = true;
    const reset = new TransportError('CONNECTION_RESET', 'the peer destroyed the stream');
    this.outgoing.abort(reset);
    this.incoming.abort(error ?? new TransportError('CLOSED', 'stream destroyed locally'));
    this.#close(
      error === undefined || error instanceof TransportError
        ? error
        : new TransportError('IO', error.message, { cause: error }),
    );
    this.peer.#peerDestroyed(reset);
  }

  #peerDestroyed(error: TransportError): void {
    if (this.#isClosed) return;
    this.outgoing.abort(error);
    this.#close(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#iterated) throw new TransportError('IO', 'a stream is read by one consumer');
    this.#iterated = true;
    return {
      next: async () => {
        if (this.#readEnded) return { done: true, value: undefined };
        try {
          const r = await this.incoming.read();
          if (r.done) {
            this.#readEnded = true;
            this.#maybeClosed();
          }
          return r;
        } catch (e) {
          // A local destroy() without error ends reads quietly.
          if (
            e instanceof TransportError &&
            e.code === 'CLOSED' &&
            this.#isClosed &&
            !this.#error
          ) {
            return { done: true, value: undefined };
          }
          throw e;
        }
      },
    };
  }
}

/** Two connected in-memory streams: what `a` writes, `b` reads, and the other way round. */
export function memoryStreamPair(options: MemoryStreamPairOptions = {}): [Stream, Stream] {
  const hwm = options.highWaterMark ?? 64 * 1024;
  const aToB = new Pipe(hwm);
  const bToA = new Pipe(hwm);
  const portA = nextPort++;
  const portB = nextPort++;
  const addrA = { host: '127.0.0.1', port: portA };
  const addrB = { host: '127.0.0.1', port: portB };
  const a = new MemoryStream(bToA, aToB, options.aToB, addrA, addrB);
  const b = new MemoryStream(aToB, bToA, options.bToA, addrB, addrA);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
