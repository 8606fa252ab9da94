/**
 * An in-memory pair of connected transport `Stream`s, for tests: what one side writes, the
 * other reads. Writes resolve while the reader's unread bytes stay below `highWaterMark` and
 * wait (backpressure) once they reach it, until the reader catches up.
 */
import { type Address, type Stream, TransportError } from '@peerkit/transport';

export interface MemoryStreamOptions {
  /** Unread bytes at the receiver above which `write` waits; default 16 KiB. */
  highWaterMark?: number;
  /** How written data is cut into the chunks the reader sees; default: as written. */
  split?: (data: Uint8Array) => Uint8Array[];
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

class MemoryStream implements Stream {
  readonly localAddress: Address;
  readonly remoteAddress: Address;
  peer!: MemoryStream;
  readonly closed: Promise<TransportError | undefined>;

  private readonly highWaterMark: number;
  private readonly split: (data: Uint8Array) => Uint8Array[];
  private readonly inbox: Uint8Array[] = [];
  private inboxBytes = 0;
  private readEnded = false;
  private readError: Error | undefined;
  private wakeReader: (() => void) | undefined;
  private readonly drainWaiters: Waiter[] = [];
  private writeEnded = false;
  private destroyed = false;
  private resolveClosed!: (error: TransportError | undefined) => void;

  constructor(local: Address, remote: Address, options: MemoryStreamOptions) {
    this.localAddress = local;
    this.remoteAddress = remote;
    this.highWaterMark = options.highWaterMark ?? 16 * 1024;
    this.split = options.split ?? ((data) => [data]);
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /** Bytes written by the peer and not read yet. */
  get unreadBytes(): number {
    return this.inboxBytes;
  }

  write(data: Uint8Array): Promise<void> {
    if (this.writeEnded || this.destroyed) {
      return Promise.reject(new TransportError('CLOSED', 'write after end or destroy'));
    }
    this.peer.deliver(data);
    if (this.peer.inboxBytes < this.highWaterMark) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  end(): Promise<void> {
    if (this.destroyed) return Promise.reject(new TransportError('CLOSED', 'stream destroyed'));
    if (!this.writeEnded) {
      this.writeEnded = true;
      this.peer.deliverEnd();
      this.maybeClosed();
    }
    return Promise.resolve();
  }

  destroy(error?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.writeEnded = true;
    this.finishReading(error);
    this.rejectWriters(new TransportError('CLOSED', 'stream destroyed'));
    this.peer.reset();
    this.resolveClosed(error instanceof TransportError ? error : undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const chunk = this.inbox.shift();
      if (chunk !== undefined) {
        this.inboxBytes -= chunk.length;
        if (this.inboxBytes < this.highWaterMark) this.peer.drained();
        yield chunk;
        continue;
      }
      if (this.readError) throw this.readError;
      if (this.readEnded) return;
      await new Promise<void>((resolve) => {
        this.wakeReader = resolve;
      });
    }
  }

  private deliver(data: Uint8Array): void {
    for (const chunk of this.split(data)) {
      if (chunk.length === 0) continue;
      this.inbox.push(chunk);
      this.inboxBytes += chunk.length;
    }
    this.wake();
  }

  private deliverEnd(): void {
    this.readEnded = true;
    this.wake();
    this.maybeClosed();
  }

  /** The peer destroyed the connection. */
  private reset(): void {
    if (this.destroyed) return;
    const error = new TransportError('CONNECTION_RESET', 'peer destroyed the stream');
    this.destroyed = true;
    this.writeEnded = true;
    this.finishReading(error);
    this.rejectWriters(error);
    this.resolveClosed(error);
  }

  private drained(): void {
    for (const waiter of this.drainWaiters.splice(0)) waiter.resolve();
  }

  private finishReading(error: Error | undefined): void {
    this.inbox.length = 0;
    this.inboxBytes = 0;
    this.readEnded = true;
    this.readError = error;
    this.wake();
  }

  private rejectWriters(error: Error): void {
    for (const waiter of this.drainWaiters.splice(0)) waiter.reject(error);
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }

  private maybeClosed(): void {
    if (this.writeEnded && this.readEnded && !this.destroyed) {
      this.rejectWriters(new TransportError('CLOSED', 'stream closed'));
      this.resolveClosed(undefined);
    }
  }
}

/** A connected pair of in-memory streams (`a` writes to `b` and back). */
export function memoryStreamPair(options: MemoryStreamOptions = {}): {
  a: Stream & { readonly unreadBytes: number };
  b: Stream & { readonly unreadBytes: number };
} {
  const addressA: Address = { host: '127.0.0.1', port: 40001 };
  const addressB: Address = { host: '127.0.0.1', port: 40002 };
  const a = new MemoryStream(addressA, addressB, options);
  const b = new MemoryStream(addressB, addressA, options);
  a.peer = b;
  b.peer = a;
  return { a, b };
}
