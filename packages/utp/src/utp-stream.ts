/**
 * `Stream` (transport's TCP-style interface) over one uTP `Connection`: the read queue with
 * flow control (the receive window shrinks while bytes wait for the reader), the write promise
 * with backpressure (pending while the connection buffers `sendBufferBytes` or more), half-close
 * with ST_FIN and abort with ST_RESET.
 *
 * Unsent data lives in this process, not in a kernel buffer as TCP's does: `end()` therefore
 * resolves only once the peer acknowledged our ST_FIN (every byte written arrived), and the
 * socket's `close()` ends every stream and waits for that (bounded) before letting go. Errors are transport's (`CONNECTION_RESET`, `TIMEOUT`,
 * `CLOSED`, ...), exactly as a TCP stream reports them.
 */
import {
  type Address,
  type Clock,
  type Stream,
  type Timer,
  TransportError,
} from '@peerkit/transport';
import type { Connection, ConnectionHost } from './connection';

const RESOLVED: Promise<void> = Promise.resolve();
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const noop = (): void => {};

function closedError(what: string): TransportError {
  return new TransportError('CLOSED', `${what}: the stream was ended or destroyed`);
}

/** What a stream needs from its endpoint (socket.ts). */
export interface StreamEndpoint {
  readonly clock: Clock;
  readonly localAddress: Address;
  send(datagram: Uint8Array, to: Address): void;
  /** The connection closed: forget it (and keep answering stray packets for a while). */
  release(stream: UtpStream, orderly: boolean): void;
  /** Check whether the peer's port is still open (the connection waits for ACKs in vain). */
  probe(stream: UtpStream): void;
}

interface Waiter {
  resolve(result: IteratorResult<Uint8Array>): void;
  reject(error: Error): void;
}

export class UtpStream implements Stream, ConnectionHost {
  /** transport's `Stream.transport`: which transport carries the bytes. */
  readonly transport = 'utp';
  readonly localAddress: Address;
  readonly remoteAddress: Address;
  readonly closed: Promise<TransportError | undefined>;
  /** Set by the endpoint right after construction. */
  connection!: Connection;

  readonly #endpoint: StreamEndpoint;
  #timer: Timer | undefined;
  #resolveClosed!: (error: TransportError | undefined) => void;
  #error: TransportError | undefined;
  #isClosed = false;
  #connected = false;
  #onConnect: { resolve(): void; reject(error: Error): void } | undefined;

  #writeClosed = false;
  #ending: Promise<void> | undefined;
  #resolveEnding: () => void = noop;
  #drain: Promise<void> | undefined;
  #resolveDrain: () => void = noop;
  #rejectDrain: (error: Error) => void = noop;

  readonly #queue: Uint8Array[] = [];
  #queueHead = 0;
  #readDone = false;
  #readError: Error | undefined;
  #waiter: Waiter | undefined;
  #iterated = false;

  constructor(endpoint: StreamEndpoint, remote: Address) {
    this.#endpoint = endpoint;
    this.localAddress = endpoint.localAddress;
    this.remoteAddress = remote;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Resolves when the handshake completes (dialling side). */
  connected(): Promise<void> {
    if (this.#connected) return RESOLVED;
    if (this.#isClosed) return Promise.reject(this.#error ?? closedError('connect'));
    return new Promise((resolve, reject) => {
      this.#onConnect = { resolve, reject };
    });
  }

  // ---- Stream --------------------------------------------------------------------------------

  write(data: Uint8Array): Promise<void> {
    if (this.#writeClosed) return Promise.reject(closedError('write'));
    if (this.#error) return Promise.reject(this.#error);
    if (this.#isClosed) return Promise.reject(closedError('write'));
    const c = this.connection;
    c.write(data);
    if (c.writable) return RESOLVED;
    return this.#drain ?? this.#newDrain();
  }

  end(): Promise<void> {
    if (this.#ending) return this.#ending;
    if (this.#writeClosed || this.#isClosed) return Promise.reject(closedError('end'));
    if (this.#error) return Promise.reject(this.#error);
    this.#writeClosed = true;
    this.#ending = new Promise<void>((resolve) => {
      this.#resolveEnding = resolve;
    });
    this.connection.end();
    return this.#ending;
  }

  /**
   * Graceful teardown for the socket's close: ends the writing half when it is still open and
   * resolves once the peer acknowledged everything (or the connection closed). Never rejects.
   */
  finish(): Promise<void> {
    if (this.#isClosed) return RESOLVED;
    if (this.connection.state === 'CS_SYN_SENT') {
      // Still dialling: nothing was delivered yet, nothing to flush.
      this.destroy();
      return RESOLVED;
    }
    if (this.#ending) return this.#ending;
    if (this.#writeClosed) return this.closed.then(noop);
    return this.end().catch(noop);
  }

  destroy(error?: Error): void {
    if (this.#isClosed && this.#readDone) return;
    this.#writeClosed = true;
    if (error) {
      this.#error ??=
        error instanceof TransportError
          ? error
          : new TransportError('IO', `destroyed: ${error.message}`, { cause: error });
      this.#readError ??= error;
    }
    this.#queue.length = 0;
    this.#queueHead = 0;
    this.#readDone = true;
    this.#settleWaiter();
    this.#failDrain(closedError('write'));
    if (!this.#isClosed) this.connection.reset(this.#error);
    else this.#settleWaiter();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#iterated) throw new TypeError('a Stream can be iterated only once');
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: () => {
        if (!this.#readDone || this.#queueHead < this.#queue.length) this.destroy();
        return Promise.resolve(DONE);
      },
    };
  }

  #next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#queueHead < this.#queue.length) {
      const chunk = this.#queue[this.#queueHead] as Uint8Array;
      this.#queue[this.#queueHead++] = chunk.subarray(0, 0);
      if (this.#queueHead === this.#queue.length) {
        this.#queue.length = 0;
        this.#queueHead = 0;
      }
      this.connection.consumed(chunk.length);
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#readError) {
      const error = this.#readError;
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
    if (this.#readError) {
      this.#waiter = undefined;
      const error = this.#readError;
      this.#readError = undefined;
      this.#readDone = true;
      waiter.reject(error);
    } else if (this.#readDone) {
      this.#waiter = undefined;
      waiter.resolve(DONE);
    }
  }

  #newDrain(): Promise<void> {
    const drain = new Promise<void>((resolve, reject) => {
      this.#resolveDrain = resolve;
      this.#rejectDrain = reject;
    });
    drain.catch(noop);
    this.#drain = drain;
    return drain;
  }

  #failDrain(error: Error): void {
    if (!this.#drain) return;
    this.#drain = undefined;
    this.#rejectDrain(error);
  }

  // ---- ConnectionHost ----------------------------------------------------------------------

  transmit(datagram: Uint8Array): void {
    this.#endpoint.send(datagram, this.remoteAddress);
  }

  armTimer(atMs: number): void {
    this.#timer?.cancel();
    const clock = this.#endpoint.clock;
    this.#timer = clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.connection.tick();
      },
      Math.max(0, atMs - clock.now()),
    );
  }

  onConnected(): void {
    this.#connected = true;
    const waiting = this.#onConnect;
    this.#onConnect = undefined;
    waiting?.resolve();
  }

  onData(payload: Uint8Array): void {
    if (this.#readDone) {
      this.connection.consumed(payload.length);
      return;
    }
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      this.connection.consumed(payload.length);
      waiter.resolve({ done: false, value: payload });
      return;
    }
    this.#queue.push(payload);
  }

  onEnd(): void {
    this.#readDone = true;
    this.#settleWaiter();
  }

  onFinSent(): void {
    // Everything was handed over: the writes that waited are done.
    this.onWritable();
  }

  onPeerSilent(): void {
    // Worth one look: a killed peer's system answers port unreachable.
    this.#endpoint.probe(this);
  }

  onFinAcked(): void {
    this.#resolveEnding();
  }

  onWritable(): void {
    if (!this.#drain) return;
    this.#drain = undefined;
    this.#resolveDrain();
  }

  onClose(error: TransportError | undefined): void {
    this.#isClosed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    if (error && !this.#error) {
      this.#error = error;
      if (!this.#readDone) this.#readError ??= error;
    }
    if (!this.#readError) this.#readDone = true;
    this.#settleWaiter();
    this.#failDrain(this.#error ?? closedError('write'));
    const connecting = this.#onConnect;
    this.#onConnect = undefined;
    connecting?.reject(this.#error ?? closedError('connect'));
    this.#resolveEnding();
    this.#endpoint.release(this, error === undefined);
    this.#resolveClosed(this.#error);
  }
}
