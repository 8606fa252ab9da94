/**
 * Simulated TCP: connection set-up, reliable in-order byte streams with flow control, and
 * resets.
 *
 * The model, per direction of a connection:
 * - `write()` appends to the sender's queue. Segments of at most `segmentBytes` leave it while
 *   the receiver has advertised room (its receive window, `windowBytes`, like TCP's rwnd). A
 *   write resolves at once while the queue holds at most `highWaterMark` bytes, and otherwise
 *   when it drains below that: backpressure, as in a Node socket.
 * - A segment's arrival time comes from the link: queueing behind earlier traffic (bandwidth),
 *   then latency and jitter; it never arrives before the previous segment (in order).
 * - When the reader takes a chunk, a window update travels back and lets the sender send more.
 * - During a partition (or on a down link) segments stall and are retransmitted every
 *   `retransmitMs`; if one stays stuck for `timeoutMs` the sender's side fails with `TIMEOUT`.
 * - `end()` sends FIN after the queued data; the stream is closed once both FINs were
 *   exchanged. `destroy()` and a host crash send RST, which the peer sees as
 *   `CONNECTION_RESET`. A segment that arrives for a stream that no longer exists is answered
 *   with RST, like TCP does.
 * There is no congestion control, no slow start, no packet loss on streams: see the README.
 * Listening and dialling (SYN, then SYN-ACK or RST) are in ./stream-setup.ts.
 */
import { type Address, type Stream, TransportError } from '@peerkit/transport';
import type { SimCore } from './core';
import type { SimEvent } from './event-queue';
import type { SimHost } from './host';
import { sampleDelay } from './link';
import { Kind } from './trace';

const DATA = 0;
const FIN = 1;
const RST = 2;
/** @internal The server's answer to a SYN (sent when the listener accepts). */
export const SYN_ACK = 3;

interface Segment {
  readonly arrival: number;
  readonly kind: number;
  readonly data: Uint8Array | undefined;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

export class SimStream implements Stream {
  readonly localAddress: Address;
  readonly remoteAddress: Address;
  readonly closed: Promise<TransportError | undefined>;
  /** The other end (set right after both ends are built). */
  peer!: SimStream;
  private readonly core: SimCore;
  private readonly host: SimHost;
  /** Whether the local port is a dialled (ephemeral) port to release at the end. */
  private readonly ownsPort: boolean;
  private resolveClosed!: (error: TransportError | undefined) => void;
  private isFinished = false;

  // Receiving side.
  private recv: Uint8Array[] = [];
  private remoteEnded = false;
  private readers: Waiter<IteratorResult<Uint8Array>>[] = [];
  /** Why the stream broke (reset, timeout, crash): reads and writes fail with it. */
  private failure: TransportError | undefined;
  /** A local `destroy()` happened; `readError` is what pending and later reads reject with. */
  private destroyed = false;
  private readError: unknown;

  // Sending side.
  private sendQueue: Uint8Array[] = [];
  private sendQueued = 0;
  private credit: number;
  private finQueued = false;
  private finSent = false;
  private rstSent = false;
  private writeWaiters: Waiter<void>[] = [];
  private endWaiters: Waiter<void>[] = [];
  private endPromise: Promise<void> | undefined;
  private inFlight: Segment[] = [];
  private lastArrival = 0;
  private stalledSince = -1;
  private retry: SimEvent | undefined;
  private readonly flushBound = () => this.flush();

  /** Client side: called when the SYN-ACK arrives, or when the stream fails before that. */
  onEstablished: (() => void) | undefined;
  onEarlyFailure: ((error: TransportError) => void) | undefined;

  constructor(host: SimHost, local: Address, remote: Address, ownsPort: boolean) {
    this.core = host.core;
    this.host = host;
    this.localAddress = local;
    this.remoteAddress = remote;
    this.ownsPort = ownsPort;
    this.credit = host.core.stream.windowBytes;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    host.streams ??= new Set();
    host.streams.add(this);
  }

  write(data: Uint8Array): Promise<void> {
    this.core.promised();
    if (this.failure) return Promise.reject(this.failure);
    if (this.destroyed || this.finQueued) {
      return Promise.reject(new TransportError('CLOSED', 'write after end() or destroy()'));
    }
    if (data.length === 0) return Promise.resolve();
    this.sendQueue.push(data);
    this.sendQueued += data.length;
    this.pump();
    if (this.sendQueued <= this.core.stream.highWaterMark) return Promise.resolve();
    return new Promise((resolve, reject) => this.writeWaiters.push({ resolve, reject }));
  }

  end(): Promise<void> {
    this.core.promised();
    if (this.failure) return Promise.reject(this.failure);
    if (this.endPromise) return this.endPromise;
    if (this.destroyed) return Promise.reject(new TransportError('CLOSED', 'end after destroy()'));
    this.finQueued = true;
    this.endPromise = new Promise((resolve, reject) => this.endWaiters.push({ resolve, reject }));
    this.pump();
    return this.endPromise;
  }

  destroy(error?: Error): void {
    if (this.destroyed || this.failure) return;
    const wasFinished = this.isFinished;
    this.destroyed = true;
    this.readError = error;
    this.recv = []; // unread bytes are gone, as with a real socket
    const readers = this.readers;
    this.readers = [];
    for (const r of readers) {
      if (error === undefined) r.resolve({ value: undefined, done: true });
      else r.reject(error);
    }
    this.failWaiters(new TransportError('CLOSED', 'stream destroyed'));
    if (!wasFinished) {
      this.sendRst();
      this.finish(error === undefined ? undefined : asTransportError(error));
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.read(),
      return: () => {
        // Leaving a `for await` early destroys the stream, as Node's sockets do.
        this.destroy();
        this.core.promised();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private read(): Promise<IteratorResult<Uint8Array>> {
    this.core.promised();
    const chunk = this.recv.shift();
    if (chunk !== undefined) {
      this.consumed(chunk.length);
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.destroyed) {
      return this.readError === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(this.readError);
    }
    if (this.remoteEnded) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  /** Moves queued bytes onto the wire while the receive window allows; then FIN. */
  private pump(): void {
    if (this.failure || this.destroyed) return;
    const settings = this.core.stream;
    while (this.sendQueue.length > 0 && this.credit > 0) {
      const head = this.sendQueue[0] as Uint8Array;
      const n = Math.min(head.length, this.credit, settings.segmentBytes);
      let chunk: Uint8Array;
      if (n === head.length) {
        chunk = head;
        this.sendQueue.shift();
      } else {
        chunk = head.subarray(0, n);
        this.sendQueue[0] = head.subarray(n);
      }
      this.credit -= n;
      this.sendQueued -= n;
      this.transmit(DATA, chunk);
    }
    if (this.writeWaiters.length > 0 && this.sendQueued <= settings.highWaterMark) {
      const waiters = this.writeWaiters;
      this.writeWaiters = [];
      this.core.promised();
      for (const w of waiters) w.resolve();
    }
    if (this.sendQueue.length === 0 && this.finQueued && !this.finSent) {
      this.finSent = true;
      this.transmit(FIN, undefined);
      const waiters = this.endWaiters;
      this.endWaiters = [];
      this.core.promised();
      for (const w of waiters) w.resolve();
      this.checkOrderlyClose();
    }
  }

  /** @internal Puts a segment in flight towards the peer (in order after earlier ones). */
  transmit(kind: number, data: Uint8Array | undefined): void {
    const core = this.core;
    const from = this.host;
    const to = this.peer.host;
    const link = core.link(from, to);
    let arrival = core.arrivalTime(from, to, link, data === undefined ? 0 : data.length);
    if (arrival < this.lastArrival) arrival = this.lastArrival;
    this.lastArrival = arrival;
    this.inFlight.push({ arrival, kind, data });
    core.at(arrival, this.flushBound);
  }

  /** Delivers every in-flight segment that is due, in order; stalls while unreachable. */
  private flush(): void {
    const core = this.core;
    while (this.inFlight.length > 0) {
      const segment = this.inFlight[0] as Segment;
      if (segment.arrival > core.now) return;
      const from = this.host;
      const to = this.peer.host;
      const link = core.link(from, to);
      if (from.group !== to.group || link.down) {
        if (this.stalledSince < 0) this.stalledSince = core.now;
        if (core.now - this.stalledSince >= core.stream.timeoutMs) {
          this.inFlight = [];
          this.fail(new TransportError('TIMEOUT', 'stream retransmissions timed out'));
          return;
        }
        if (this.retry === undefined || this.retry.fn === null) {
          this.retry = core.schedule(core.stream.retransmitMs, this.flushBound);
        }
        return;
      }
      this.stalledSince = -1;
      this.inFlight.shift();
      this.peer.receive(segment);
    }
  }

  /** A segment from the peer arrives. */
  private receive(segment: Segment): void {
    const core = this.core;
    const trace = core.trace;
    const peer = this.peer;
    if (this.isFinished && (this.failure !== undefined || this.destroyed)) {
      // The stream is gone on this side: answer anything but RST with RST.
      if (segment.kind !== RST) this.sendRst();
      return;
    }
    switch (segment.kind) {
      case SYN_ACK: {
        const established = this.onEstablished;
        this.onEstablished = undefined;
        this.onEarlyFailure = undefined;
        established?.();
        return;
      }
      case DATA: {
        const data = segment.data as Uint8Array;
        trace.flow(
          Kind.Data,
          core.now,
          peer.host.id,
          peer.localAddress,
          this.host.id,
          this.localAddress,
          data.length,
        );
        const reader = this.readers.shift();
        if (reader !== undefined) {
          this.consumed(data.length);
          core.promised();
          reader.resolve({ value: data, done: false });
        } else {
          this.recv.push(data);
        }
        return;
      }
      case FIN: {
        trace.flow(
          Kind.Fin,
          core.now,
          peer.host.id,
          peer.localAddress,
          this.host.id,
          this.localAddress,
          0,
        );
        this.remoteEnded = true;
        if (this.recv.length === 0 && this.readers.length > 0) {
          const readers = this.readers;
          this.readers = [];
          core.promised();
          for (const r of readers) r.resolve({ value: undefined, done: true });
        }
        this.checkOrderlyClose();
        return;
      }
      case RST: {
        trace.flow(
          Kind.Reset,
          core.now,
          peer.host.id,
          peer.localAddress,
          this.host.id,
          this.localAddress,
          0,
        );
        this.fail(new TransportError('CONNECTION_RESET', 'connection reset by peer'));
        return;
      }
    }
  }

  /** The reader took `bytes`: a window update travels back to the sender. */
  private consumed(bytes: number): void {
    const core = this.core;
    const link = core.link(this.host, this.peer.host);
    const sentAt = core.now;
    core.schedule(sampleDelay(link, core.linkRandom), () =>
      this.deliverWindowUpdate(bytes, sentAt),
    );
  }

  /** A window update arrives (retried while unreachable, given up after `timeoutMs`). */
  private deliverWindowUpdate(bytes: number, sentAt: number): void {
    const core = this.core;
    const sender = this.peer;
    if (sender.isFinished) return;
    const link = core.link(this.host, sender.host);
    if (this.host.group !== sender.host.group || link.down) {
      if (core.now - sentAt < core.stream.timeoutMs) {
        core.schedule(core.stream.retransmitMs, () => this.deliverWindowUpdate(bytes, sentAt));
      }
      return;
    }
    sender.credit += bytes;
    sender.pump();
  }

  private sendRst(): void {
    if (this.rstSent) return;
    this.rstSent = true;
    this.transmit(RST, undefined);
  }

  private checkOrderlyClose(): void {
    if (this.finSent && this.remoteEnded && !this.isFinished) this.finish(undefined);
  }

  /** The stream broke: every pending and later read and write fails with `error`. */
  private fail(error: TransportError): void {
    if (this.failure || this.destroyed) return;
    if (this.isFinished) return;
    this.failure = error;
    // Like TCP on a reset, bytes not yet read are discarded: reads fail at once.
    this.recv = [];
    const readers = this.readers;
    this.readers = [];
    if (readers.length > 0) this.core.promised();
    for (const r of readers) r.reject(error);
    this.failWaiters(error);
    const early = this.onEarlyFailure;
    this.onEarlyFailure = undefined;
    this.onEstablished = undefined;
    early?.(error);
    this.finish(error);
  }

  /** @internal The host under this stream crashed: it fails locally and the peer is reset. */
  hostCrashed(): void {
    if (this.isFinished) return;
    this.fail(new TransportError('CLOSED', `host ${this.host.address} crashed`));
    this.sendRst();
  }

  private failWaiters(error: TransportError): void {
    this.sendQueue = [];
    this.sendQueued = 0;
    const waiters = [...this.writeWaiters, ...this.endWaiters];
    this.writeWaiters = [];
    this.endWaiters = [];
    if (waiters.length > 0) this.core.promised();
    for (const w of waiters) w.reject(error);
  }

  private finish(result: TransportError | undefined): void {
    if (this.isFinished) return;
    this.isFinished = true;
    this.host.streams?.delete(this);
    if (this.ownsPort) this.host.streamPorts?.delete(this.localAddress.port);
    this.core.promised();
    this.resolveClosed(result);
  }
}

function asTransportError(error: Error): TransportError {
  if (error instanceof TransportError) return error;
  return new TransportError('IO', error.message, { cause: error });
}
