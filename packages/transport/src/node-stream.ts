/**
 * `Stream` over a connected node:net socket.
 *
 * Reading: the socket flows into a small queue; when the consumer lags and the queue holds
 * `highWaterMark` bytes, the socket is paused (TCP then pushes back on the sender) and resumed
 * once the consumer has taken the queue below the mark again.
 *
 * Writing: `write` hands the bytes to the socket at once (no copy) and returns one shared,
 * already-resolved promise while the socket's buffer is below its high-water mark; above it,
 * every write until the next 'drain' gets the same pending promise. So the hot path of a bulk
 * sender allocates no promise at all.
 *
 * `destroy()` resets the connection (RST, not FIN): the peer sees `CONNECTION_RESET`, which is
 * what an abort means in TCP and what netsim reproduces.
 */
import type { Socket } from 'node:net';
import { TransportError } from './errors';
import type { Address, Stream } from './interfaces';
import { fromNodeError } from './node-errors';

const RESOLVED: Promise<void> = Promise.resolve();
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const noop = (): void => {};

interface Waiter {
  resolve(result: IteratorResult<Uint8Array>): void;
  reject(error: Error): void;
}

function closedError(what: string): TransportError {
  return new TransportError('CLOSED', `${what}: the stream was ended or destroyed`);
}

/** Wraps an already connected socket. Do not use the socket directly afterwards. */
export class NodeStream implements Stream {
  readonly transport = 'tcp';
  readonly localAddress: Address;
  readonly remoteAddress: Address;
  readonly closed: Promise<TransportError | undefined>;

  readonly #socket: Socket;
  readonly #highWaterMark: number;
  #resolveClosed!: (error: TransportError | undefined) => void;
  /** The error that broke the stream (remote reset, I/O error, or `destroy(error)`). */
  #error: TransportError | undefined;
  /** Set by `end()` or `destroy()`: no more writes (they reject with `CLOSED`). */
  #writeClosed = false;
  #destroyed = false;
  #ending: Promise<void> | undefined;
  #drain: Promise<void> | undefined;
  #resolveDrain: () => void = noop;
  #rejectDrain: (error: Error) => void = noop;

  // Reading side.
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #paused = false;
  /** The remote end finished its writing half, or the stream was destroyed without error. */
  #readDone = false;
  /** What reads throw once the queue is empty (the error that broke the stream). */
  #readError: Error | undefined;
  #waiter: Waiter | undefined;
  #iterated = false;

  constructor(socket: Socket, highWaterMark: number) {
    this.#socket = socket;
    this.#highWaterMark = highWaterMark;
    this.localAddress = { host: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    this.remoteAddress = { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('drain', this.#onDrain);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#writeClosed) return Promise.reject(closedError('write'));
    if (this.#error) return Promise.reject(this.#error);
    if (this.#socket.destroyed) return Promise.reject(closedError('write'));
    if (this.#socket.write(data)) return RESOLVED;
    return this.#drain ?? this.#newDrain();
  }

  end(): Promise<void> {
    if (this.#ending) return this.#ending;
    if (this.#writeClosed || this.#socket.destroyed) return Promise.reject(closedError('end'));
    if (this.#error) return Promise.reject(this.#error);
    this.#writeClosed = true;
    this.#ending = new Promise<void>((resolve, reject) => {
      this.#socket.end((error?: Error | null) => {
        if (error) {
          reject(this.#error ?? fromNodeError(error, 'stream'));
          return;
        }
        // Node emits no 'drain' once ending; everything was handed over, so the writes that
        // were waiting are done too.
        this.#onDrain();
        resolve();
      });
    });
    return this.#ending;
  }

  destroy(error?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#writeClosed = true;
    if (error) {
      this.#error ??=
        error instanceof TransportError
          ? error
          : new TransportError('IO', `destroyed: ${error.message}`, { cause: error });
      this.#readError ??= error;
    }
    // Pending and later reads end now: drop what was queued but not read.
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#readDone = true;
    this.#settleWaiter();
    this.#failDrain(closedError('write'));
    const socket = this.#socket;
    if (!socket.destroyed) {
      // resetAndDestroy() needs the TCP handle; a socket that lost it is simply destroyed.
      try {
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#iterated) throw new TypeError('a Stream can be iterated only once');
    this.#iterated = true;
    return {
      next: () => this.#next(),
      // Leaving a `for await` loop early (break, return, throw) gives up the stream.
      return: () => {
        if (!this.#readDone || this.#queue.length > 0) this.destroy();
        return Promise.resolve(DONE);
      },
    };
  }

  #next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#queuedBytes -= chunk.byteLength;
      if (this.#paused && this.#queuedBytes < this.#highWaterMark) {
        this.#paused = false;
        this.#socket.resume();
      }
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#readError) {
      const error = this.#readError;
      // Throw once; the iteration is over afterwards.
      this.#readError = undefined;
      this.#readDone = true;
      return Promise.reject(error);
    }
    if (this.#readDone) return Promise.resolve(DONE);
    if (this.#waiter) return Promise.reject(new TypeError('concurrent next() on a Stream'));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  #settleWaiter(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    this.#waiter = undefined;
    if (this.#readError) {
      const error = this.#readError;
      this.#readError = undefined;
      this.#readDone = true;
      waiter.reject(error);
    } else if (this.#readDone) {
      waiter.resolve(DONE);
    }
  }

  #newDrain(): Promise<void> {
    const drain = new Promise<void>((resolve, reject) => {
      this.#resolveDrain = resolve;
      this.#rejectDrain = reject;
    });
    // A writer that does not await its writes must not crash the process with an unhandled
    // rejection when the stream breaks; awaiting callers still receive the error.
    drain.catch(noop);
    this.#drain = drain;
    return drain;
  }

  #failDrain(error: Error): void {
    if (!this.#drain) return;
    this.#drain = undefined;
    this.#rejectDrain(error);
  }

  #onData = (chunk: Buffer): void => {
    if (this.#destroyed) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve({ done: false, value: chunk });
      return;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.byteLength;
    if (!this.#paused && this.#queuedBytes >= this.#highWaterMark) {
      this.#paused = true;
      this.#socket.pause();
    }
  };

  #onEnd = (): void => {
    this.#readDone = true;
    this.#settleWaiter();
  };

  #onDrain = (): void => {
    if (!this.#drain) return;
    this.#drain = undefined;
    this.#resolveDrain();
  };

  #onError = (error: Error): void => {
    const transportError = fromNodeError(error, 'stream');
    if (!this.#error) {
      this.#error = transportError;
      // A break after the remote's orderly end (say, EPIPE on our write) does not turn a
      // completed read into a failed one.
      if (!this.#destroyed && !this.#readDone) this.#readError ??= transportError;
    }
    this.#settleWaiter();
    this.#failDrain(this.#error);
  };

  #onClose = (): void => {
    if (!this.#readError) this.#readDone = true;
    this.#settleWaiter();
    this.#failDrain(this.#error ?? closedError('write'));
    this.#resolveClosed(this.#error);
  };
}
