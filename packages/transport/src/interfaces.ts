/**
 * The I/O seam (docs/architecture.md, "I/O at the edges").
 *
 * Protocol packages take a `Network` and never touch node:dgram, node:net, timers or
 * `Math.random` directly. `nodeNetwork()` gives the real thing; `@peerkit/netsim` gives a
 * simulated host in virtual time. Both pass the same compliance suite
 * (`@peerkit/transport/testing`).
 */
import type { TransportError } from './errors';

/** An IP address and port. `host` is a literal IPv4 or IPv6 address (no brackets). */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** A scheduled callback; `cancel()` is idempotent and safe after it fired. */
export interface Timer {
  cancel(): void;
}

/** Time as the protocol code sees it: wall clock in Node, virtual time in netsim. */
export interface Clock {
  /** Milliseconds since an arbitrary origin. Never decreases. */
  now(): number;
  /** Calls `callback` once after `delayMs` (>= 0) milliseconds. */
  setTimeout(callback: () => void, delayMs: number): Timer;
  /** Calls `callback` every `intervalMs` (> 0) milliseconds until cancelled. */
  setInterval(callback: () => void, intervalMs: number): Timer;
}

/**
 * Randomness as the protocol code sees it: node:crypto in Node, a seeded generator in netsim,
 * so that a simulation replays exactly. Use it for ids, transaction ids, tie-breaks; use
 * node:crypto directly only for key material that must be secret outside simulations.
 */
export interface Random {
  /** `length` random bytes. */
  bytes(length: number): Uint8Array;
  /** A uniform integer in [0, maxExclusive); `maxExclusive` is an integer in [1, 2^32]. */
  int(maxExclusive: number): number;
}

/** A bound UDP-style socket: unreliable, unordered, message-oriented. */
export interface DatagramSocket {
  /** The address the socket is bound to (the real port when 0 was asked for). */
  readonly localAddress: Address;
  /**
   * Sends one datagram. Never throws for network conditions (datagrams may be lost, and a
   * datagram to a closed port is simply lost); throws `TransportError` `CLOSED` after
   * `close()`, `MESSAGE_TOO_LARGE` past 65,507 bytes, `INVALID_ADDRESS` for a malformed
   * destination (Node: also for a destination of the other IP family than the socket's).
   * The caller must not modify `data` afterwards (it is not copied).
   */
  send(data: Uint8Array, to: Address): void;
  /**
   * Registers a receiver; returns a function that unregisters it (idempotent). Every registered
   * handler sees every datagram; `from` is the sender's address, ready to reply to.
   */
  onMessage(handler: (data: Uint8Array, from: Address) => void): () => void;
  /** Stops receiving and releases the port. Idempotent. */
  close(): Promise<void>;
}

/**
 * A reliable, ordered, bidirectional byte stream (TCP-style).
 *
 * Reading: iterate it (`for await (const chunk of stream)`), once, by one consumer. Iteration
 * ends when the remote side ends its writing half; it throws `TransportError`
 * (`CONNECTION_RESET`, ...) when the stream breaks. Chunk boundaries carry no meaning. A
 * consumer that does not read holds the sender back (backpressure), it does not buffer without
 * bound. Leaving the loop early (`break`, `return`, a throw) destroys the stream, as Node's own
 * streams do; to stop reading but keep writing, keep the iterator and stop calling `next()`.
 */
export interface Stream extends AsyncIterable<Uint8Array> {
  readonly localAddress: Address;
  readonly remoteAddress: Address;
  /**
   * The remote peer's authenticated identity, when the stream is a secure channel that proved
   * one (e.g. `@peerkit/noise`'s Ed25519 identity, 32 bytes); `undefined` on plain streams.
   */
  readonly remoteIdentity?: Uint8Array;
  /**
   * What carries the bytes, for reports: `'tcp'` (a Node TCP socket), `'utp'` (@peerkit/utp);
   * `undefined` when the stream does not say (in-memory and simulated streams). Wrappers that
   * only transform the bytes (throttling, encryption) pass the inner stream's value on.
   */
  readonly transport?: string;
  /**
   * Queues `data` for sending. The promise resolves as soon as the stream can take more
   * (immediately while below its buffer limit, later when the peer reads slowly: backpressure);
   * it rejects with `TransportError` `CLOSED` after `end()`/`destroy()`, or with the error that
   * broke the stream. The caller must not modify `data` afterwards.
   */
  write(data: Uint8Array): Promise<void>;
  /** Half-close: no more writes; resolves once everything queued is handed to the network. */
  end(): Promise<void>;
  /**
   * Aborts both directions at once (TCP: a reset, not an orderly close): the remote side sees
   * `CONNECTION_RESET`. Pending and later reads end (rejecting with `error` when given), pending
   * and later writes reject with `CLOSED`, queued unsent data is dropped. Idempotent.
   */
  destroy(error?: Error): void;
  /**
   * Resolves once the stream is fully closed, with the error that closed it (or `undefined` for
   * an orderly close by both sides or a local `destroy()` without error). Never rejects.
   */
  readonly closed: Promise<TransportError | undefined>;
}

/**
 * A listening stream socket. `close()` stops accepting (later dials get `CONNECTION_REFUSED`)
 * and releases the port; streams already accepted live on. Idempotent.
 */
export interface StreamListener {
  readonly localAddress: Address;
  close(): Promise<void>;
}

export interface BindOptions {
  /** Literal IP to bind, e.g. `127.0.0.1` or `::1`. */
  host: string;
  /** 0 or absent: any free port. */
  port?: number;
}

export interface DialOptions {
  /** Give up with `TransportError` `TIMEOUT` after this many milliseconds (default 10,000). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Everything a protocol node needs from its environment. */
export interface Network {
  readonly clock: Clock;
  readonly random: Random;
  /** Binds a datagram socket; rejects with `ADDRESS_IN_USE` or `INVALID_ADDRESS`. */
  bindDatagram(options: BindOptions): Promise<DatagramSocket>;
  /**
   * Optional (node: yes, simulations: no): whether anything still listens on UDP port `to`, as
   * far as the path tells. Sends one empty datagram from a fresh socket connected to `to` and
   * resolves `'closed'` when the destination's system answers ICMP "port unreachable" within
   * `waitMs` (seen as ECONNREFUSED; an unconnected socket never sees it), else `'unknown'`.
   * uTP uses it to notice a vanished peer (a killed process) at once, as TCP gets a reset.
   */
  probeDatagramPort?(to: Address, waitMs: number): Promise<'closed' | 'unknown'>;
  /**
   * Listens for streams; `onStream` receives each accepted stream (the callee owns it: read it,
   * or destroy it). Rejects with `ADDRESS_IN_USE` or `INVALID_ADDRESS`.
   */
  listen(options: BindOptions, onStream: (stream: Stream) => void): Promise<StreamListener>;
  /**
   * Opens a stream to `to`; rejects with `CONNECTION_REFUSED` (nobody listens), `TIMEOUT`,
   * `ABORTED`, `UNREACHABLE` or `INVALID_ADDRESS`.
   */
  dial(to: Address, options?: DialOptions): Promise<Stream>;
}
