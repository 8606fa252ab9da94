/**
 * Simulated UDP: `DatagramSocket` on a simulated host, and the path of one datagram.
 *
 * Delivery is a plain event whose callback calls the receiver's handlers synchronously, with
 * no promise in between: this is the simulator's hot path (a DHT of thousands of nodes is
 * mostly datagrams).
 */
import {
  type Address,
  addressFamily,
  type DatagramSocket,
  isValidPort,
  MAX_DATAGRAM_SIZE,
  TransportError,
} from '@peerkit/transport';
import type { SimCore } from './core';
import type { SimEvent } from './event-queue';
import type { SimHost } from './host';
import { Kind } from './trace';

type Handler = (data: Uint8Array, from: Address) => void;

export class SimDatagramSocket implements DatagramSocket {
  readonly localAddress: Address;
  /** @internal The host the socket belongs to (direct, to save a hop on the hot path). */
  readonly host: SimHost;
  /** @internal */
  readonly port: number;
  /** @internal The host's id (for the trace, without touching the host object). */
  readonly hostId: number;
  /** The only handler, while there is exactly one (the common case: no array to walk). */
  private handler: Handler | undefined;
  private handlers: Handler[] = [];
  /** Set by `close()` and by a crash of the host. */
  private isClosed = false;

  constructor(host: SimHost, port: number) {
    this.host = host;
    this.port = port;
    this.hostId = host.id;
    this.localAddress = { host: host.address, port };
  }

  send(data: Uint8Array, to: Address): void {
    if (this.isClosed) {
      throw new TransportError('CLOSED', 'send on a closed datagram socket');
    }
    if (data.length > MAX_DATAGRAM_SIZE) {
      throw new TransportError(
        'MESSAGE_TOO_LARGE',
        `datagram of ${data.length} bytes exceeds ${MAX_DATAGRAM_SIZE}`,
      );
    }
    const src = this.host;
    const core = src.core;
    // A known host's address is valid; only unknown ones need parsing (the hot path skips it).
    const dst =
      typeof to === 'object' && to !== null && typeof to.host === 'string'
        ? core.destination(src, to.host)
        : undefined;
    if ((dst === undefined && !isValidDestination(to)) || !isValidPort(to.port) || to.port === 0) {
      throw new TransportError('INVALID_ADDRESS', `invalid destination ${JSON.stringify(to)}`);
    }
    const family = dst !== undefined && dst !== src ? dst.family : addressFamily(to.host);
    if (family !== src.family) {
      throw new TransportError(
        'INVALID_ADDRESS',
        `an ${src.family} socket cannot reach ${family} address ${to.host}`,
      );
    }
    sendDatagram(core, src, this, data, to, dst);
  }

  onMessage(handler: Handler): () => void {
    this.handlers = [...this.handlers, handler];
    this.handler = this.handlers.length === 1 ? handler : undefined;
    return () => {
      this.handlers = this.handlers.filter((h) => h !== handler);
      this.handler = this.handlers.length === 1 ? this.handlers[0] : undefined;
    };
  }

  close(): Promise<void> {
    this.host.core.promised();
    this.release();
    return Promise.resolve();
  }

  /** Stops receiving (close, or the host crashed). */
  release(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.handlers = [];
    this.handler = undefined;
    this.host.removeDatagramSocket(this);
  }

  /** Hands a datagram to every handler, synchronously. */
  dispatch(core: SimCore, data: Uint8Array, from: Address): void {
    const only = this.handler;
    if (only !== undefined) {
      core.callbacksRan = true;
      const result: unknown = only(data, from);
      if (result !== undefined) core.asyncWork = true;
      return;
    }
    const handlers = this.handlers;
    for (let i = 0; i < handlers.length; i++) {
      const handler = handlers[i] as Handler;
      core.callbacksRan = true;
      const result: unknown = handler(data, from);
      if (result !== undefined) core.asyncWork = true;
    }
  }
}

export function isValidDestination(to: Address): boolean {
  return (
    typeof to === 'object' &&
    to !== null &&
    typeof to.host === 'string' &&
    addressFamily(to.host) !== undefined &&
    isValidPort(to.port) &&
    to.port !== 0
  );
}

/** One datagram from `src` (socket address `from`) to `to`: trace, link effects, delivery. */
function sendDatagram(
  core: SimCore,
  src: SimHost,
  socket: SimDatagramSocket,
  data: Uint8Array,
  to: Address,
  dst: SimHost | undefined,
): void {
  const size = data.length;
  const trace = core.trace;
  const from = socket.localAddress;
  const dstId = dst === undefined ? -1 : dst.id;
  trace.packet(Kind.Send, core.now, src.id, socket.port, from, dstId, to.port, to, size);
  if (dst === undefined) {
    trace.flow(Kind.Drop, core.now, src.id, from, -1, to, size, 'no-host');
    return;
  }
  // Not copied: transport's contract says the sender must not modify `data` after `send()`,
  // and receivers treat what they get as read-only. Copying would double the memory that
  // datagrams in flight keep alive, which at scale is most of the garbage collector's work.
  if (dst === src) {
    // Loopback: no link, no loss; delivered after the current event, like a local socket.
    core.atPooled(core.now, deliverDatagram, data, socket, to, dst);
    return;
  }
  const link = core.link(src, dst);
  if (src.group !== dst.group || link.down) {
    trace.flow(Kind.Drop, core.now, src.id, from, dst.id, to, size, 'partition');
    return;
  }
  const random = core.linkRandom;
  if (link.loss > 0 && random.chance(link.loss)) {
    trace.flow(Kind.Drop, core.now, src.id, from, dst.id, to, size, 'loss');
    return;
  }
  let arrival = core.datagramArrival(src, dst, link, size);
  if (arrival < 0) {
    trace.flow(Kind.Drop, core.now, src.id, from, dst.id, to, size, 'queue');
    return;
  }
  if (link.reorder > 0 && random.chance(link.reorder)) arrival += link.reorderDelay;
  core.atPooled(arrival, deliverDatagram, data, socket, to, dst);
  if (link.duplicate > 0 && random.chance(link.duplicate)) {
    trace.flow(Kind.Duplicate, core.now, src.id, from, dst.id, to, size);
    const again = core.datagramArrival(src, dst, link, size);
    if (again >= 0) core.atPooled(again, deliverDatagram, data, socket, to, dst);
  }
}

/** The delivery event of a datagram; slots: a = data, b = sending socket, c = to, d = host. */
function deliverDatagram(event: SimEvent): void {
  const data = event.a as Uint8Array;
  const sender = event.b as SimDatagramSocket;
  const to = event.c as Address;
  const dst = event.d as SimHost;
  const from = sender.localAddress;
  const core = dst.core;
  const trace = core.trace;
  const port = to.port;
  const size = data.length;
  if (!dst.alive) {
    trace.packet(
      Kind.Drop,
      core.now,
      sender.hostId,
      sender.port,
      from,
      dst.id,
      port,
      to,
      size,
      'host-down',
    );
    return;
  }
  const socket = dst.datagramSocket(port);
  if (socket === undefined) {
    trace.packet(
      Kind.Drop,
      core.now,
      sender.hostId,
      sender.port,
      from,
      dst.id,
      port,
      to,
      size,
      'no-socket',
    );
    return;
  }
  trace.packet(Kind.Deliver, core.now, sender.hostId, sender.port, from, dst.id, port, to, size);
  socket.dispatch(core, data, from);
}
