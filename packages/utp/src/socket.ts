/**
 * One UDP port shared by uTP and the DHT, as libtorrent does: `UtpSocket` owns a transport
 * `DatagramSocket` and demultiplexes what arrives on it.
 *
 * - A datagram whose first byte is `d` (a bencoded dictionary: a KRPC message, BEP 5) or that
 *   is not a uTP packet goes to the datagram view (`bindDatagram` of the uTP network), if one
 *   is open.
 * - A uTP packet (first byte `type << 4 | 1`) goes to its connection, found by the connection
 *   id and the sender's address; an ST_SYN opens a connection when a listener is attached;
 *   a stray packet gets ST_RESET (BEP 29, "ST_RESET": "the remote host does not have any state
 *   for this connection").
 *
 * The socket lives while anything uses it: a listener, a datagram view, connections, or
 * connections that closed a moment ago (they linger, acknowledging a resent ST_FIN).
 */
import {
  type Address,
  type Clock,
  type DatagramSocket,
  isTransportError,
  type Network,
  type Random,
  type Stream,
  type Timer,
  TransportError,
} from '@peerkit/transport';
import { Connection, type ConnectionOptions, microseconds } from './connection';
import {
  decodePacket,
  HEADER_SIZE,
  looksLikeUtp,
  type Packet,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  writeHeaderUnchecked,
} from './header';
import { type StreamEndpoint, UtpStream } from './utp-stream';

export interface UtpSocketOptions extends ConnectionOptions {
  /** Incoming connections still in CS_SYN_RECV at once; more ST_SYNs get ST_RESET. 64. */
  maxHalfOpen?: number;
  /** Connections per socket. Default 4096. */
  maxConnections?: number;
  /** How long a closed connection keeps answering its peer's resent ST_FIN, ms. 3000. */
  lingerMs?: number;
  /**
   * `close()` ends every open connection and waits this long at most for the peers to
   * acknowledge what was queued and our ST_FIN before resetting what is left, ms. 3000.
   */
  closeDrainMs?: number;
}

type MessageHandler = (data: Uint8Array, from: Address) => void;

interface Tombstone {
  readonly sendId: number;
  readonly seqNr: number;
  readonly ackNr: number;
  readonly until: number;
}

const KRPC_FIRST_BYTE = 0x64; // 'd'
/** How long a port probe waits for ICMP port unreachable (loopback answers in ~1 ms). */
const PROBE_WAIT_MS = 250;

function key(address: Address, id: number): string {
  return `${address.host}|${address.port}|${id}`;
}

export class UtpSocket implements StreamEndpoint {
  readonly localAddress: Address;
  readonly clock: Clock;
  readonly #random: Random;
  readonly #socket: DatagramSocket;
  readonly #options: UtpSocketOptions;
  readonly #onEmpty: (socket: UtpSocket, released: boolean) => void;
  readonly #probe: Network['probeDatagramPort'];
  /** Addresses being probed. */
  readonly #probing = new Set<string>();
  /** Addresses to probe again when the probe under way finds nothing. */
  readonly #probeAgain = new Set<string>();
  /** Live connections by `conn_id_recv`. */
  readonly #byId = new Map<number, UtpStream[]>();
  #count = 0;
  readonly #tombstones = new Map<string, Tombstone>();
  #listener: ((stream: Stream) => void) | undefined;
  #handlers: readonly MessageHandler[] = [];
  #viewOpen = false;
  readonly #acks = new Set<UtpStream>();
  #ackTimer: Timer | undefined;
  #lingerTimer: Timer | undefined;
  #closing: Promise<void> | undefined;
  /** The UDP socket is being closed: nothing more is received or sent. */
  #released = false;
  /** `close()` was called: the socket goes once the connections drained. */
  #draining = false;
  readonly #removeHandler: () => void;
  /** Datagrams received that were not uTP (handed to the view or dropped). */
  otherDatagrams = 0;

  constructor(
    socket: DatagramSocket,
    clock: Clock,
    random: Random,
    options: UtpSocketOptions,
    /** Called when the socket stops taking users (`false`) and once its port is released. */
    onEmpty: (socket: UtpSocket, released: boolean) => void,
    /** The network's `probeDatagramPort`, when it has one (ICMP port unreachable). */
    probe?: Network['probeDatagramPort'],
  ) {
    this.#probe = probe;
    this.#socket = socket;
    this.localAddress = socket.localAddress;
    this.clock = clock;
    this.#random = random;
    this.#options = options;
    this.#onEmpty = onEmpty;
    this.#removeHandler = socket.onMessage(this.#onMessage);
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Settles once the port is released, after the last user left (undefined while in use). */
  get releasing(): Promise<void> | undefined {
    return this.#closing;
  }

  get listening(): boolean {
    return this.#listener !== undefined;
  }

  get connections(): number {
    return this.#count;
  }

  // ---- Users of the socket -----------------------------------------------------------------

  setListener(onStream: ((stream: Stream) => void) | undefined): void {
    this.#listener = onStream;
    if (onStream === undefined) this.#maybeClose();
  }

  /** The datagram view: the KRPC side of the port. Only one at a time. */
  openView(): DatagramSocket | undefined {
    if (this.#viewOpen) return undefined;
    this.#viewOpen = true;
    this.#lingerTimer?.cancel();
    const socket = this;
    let open = true;
    let mine: MessageHandler[] = [];
    return {
      localAddress: this.localAddress,
      send(data: Uint8Array, to: Address): void {
        if (!open) throw new TransportError('CLOSED', 'send: the socket is closed');
        socket.#socket.send(data, to);
      },
      onMessage(handler: MessageHandler): () => void {
        if (!open) return () => {};
        mine.push(handler);
        socket.#handlers = [...socket.#handlers, handler];
        return () => {
          mine = mine.filter((h) => h !== handler);
          socket.#handlers = socket.#handlers.filter((h) => h !== handler);
        };
      },
      close(): Promise<void> {
        if (!open) return Promise.resolve();
        open = false;
        socket.#handlers = socket.#handlers.filter((h) => !mine.includes(h));
        mine = [];
        socket.#viewOpen = false;
        socket.#maybeClose();
        return socket.#closing ?? Promise.resolve();
      },
    };
  }

  /** Opens an outgoing connection (BEP 29: a random `conn_id_recv`, send id = recv id + 1). */
  connect(to: Address): UtpStream {
    if (this.#count >= (this.#options.maxConnections ?? 4096)) {
      throw new TransportError('IO', 'uTP: too many connections on this socket');
    }
    let recvId = 0;
    for (let attempt = 0; attempt < 64; attempt++) {
      recvId = this.#random.int(0x10000);
      if (!this.#find(recvId, to) && !this.#find((recvId + 1) & 0xffff, to)) break;
    }
    this.#lingerTimer?.cancel();
    const stream = new UtpStream(this, to);
    this.#add(recvId, stream);
    stream.connection = Connection.connect(this.clock, stream, recvId, this.#options);
    // A port without a UDP listener (a TCP-only peer) refuses at once, not after the ST_SYNs.
    this.probe(stream);
    return stream;
  }

  /**
   * Closes the socket gracefully, as a process exit does with TCP (where the kernel still sends
   * what was written): no new connections; every open one sends what it queued and ST_FIN; once
   * each peer acknowledged that, or after `closeDrainMs`, what is left is reset and the port
   * released.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#listener = undefined;
    this.#draining = true;
    this.#closing = this.#drainThenRelease();
    return this.#closing;
  }

  async #drainThenRelease(): Promise<void> {
    const streams = [...this.#byId.values()].flat();
    if (streams.length > 0) {
      let timer: Timer | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = this.clock.setTimeout(resolve, this.#options.closeDrainMs ?? 3000);
      });
      await Promise.race([Promise.all(streams.map((s) => s.finish())), bound]);
      timer?.cancel();
      for (const list of [...this.#byId.values()]) {
        for (const stream of [...list]) stream.destroy();
      }
    }
    await this.#release();
  }

  // ---- StreamEndpoint ------------------------------------------------------------------------

  send(datagram: Uint8Array, to: Address): void {
    if (this.#released) return;
    try {
      this.#socket.send(datagram, to);
    } catch (error) {
      // A closed or unusable socket loses the datagram, as UDP may; retransmission or the
      // connection's timeout deals with it.
      if (!isTransportError(error)) throw error;
    }
  }

  probe(stream: UtpStream): void {
    const probe = this.#probe;
    const to = stream.remoteAddress;
    const k = `${to.host}|${to.port}`;
    if (probe === undefined || this.#released) return;
    if (this.#probing.has(k)) {
      // One under way started before this silence: look again once it is done.
      this.#probeAgain.add(k);
      return;
    }
    this.#probing.add(k);
    void probe(to, PROBE_WAIT_MS).then(
      (result) => {
        this.#probing.delete(k);
        const again = this.#probeAgain.delete(k);
        if (this.#released) return;
        if (result !== 'closed') {
          if (again) this.probe(stream);
          return;
        }
        // Nothing listens there any more: every connection to that address is gone.
        for (const list of [...this.#byId.values()]) {
          for (const s of [...list]) {
            if (s.remoteAddress.port === to.port && s.remoteAddress.host === to.host) {
              s.connection.unreachable();
            }
          }
        }
      },
      () => {
        this.#probing.delete(k);
        this.#probeAgain.delete(k);
      },
    );
  }

  release(stream: UtpStream, orderly: boolean): void {
    const c = stream.connection;
    const list = this.#byId.get(c.recvId);
    if (list !== undefined) {
      const i = list.indexOf(stream);
      if (i >= 0) {
        list.splice(i, 1);
        this.#count--;
        if (list.length === 0) this.#byId.delete(c.recvId);
      }
    }
    this.#acks.delete(stream);
    const linger = this.#options.lingerMs ?? 3000;
    if (orderly && linger > 0) {
      this.#tombstones.set(key(stream.remoteAddress, c.recvId), {
        sendId: c.sendId,
        seqNr: c.seqNr,
        ackNr: c.ackNr,
        until: this.clock.now() + linger,
      });
    }
    this.#maybeClose();
  }

  // ---- Demultiplexing ------------------------------------------------------------------------

  readonly #onMessage = (data: Uint8Array, from: Address): void => {
    if (this.#released) return;
    if (data[0] === KRPC_FIRST_BYTE || !looksLikeUtp(data)) {
      this.#toView(data, from);
      return;
    }
    let pkt: Packet;
    try {
      pkt = decodePacket(data);
    } catch {
      this.#toView(data, from);
      return;
    }
    // An ST_SYN is never for an existing connection (its id is the initiator's receive id,
    // which a connection to ourselves would otherwise match).
    const stream = pkt.type === ST_SYN ? undefined : this.#find(pkt.connectionId, from);
    if (stream !== undefined) {
      stream.connection.receive(pkt);
      this.#afterReceive(stream);
      return;
    }
    if (pkt.type === ST_RESET) {
      // A reset carries the id the peer sends with, which is ours +/- 1 depending on roles.
      const other =
        this.#findBySendId(pkt.connectionId, from) ?? this.#find(pkt.connectionId + 1, from);
      other?.connection.receive(pkt);
      return;
    }
    if (pkt.type === ST_SYN) {
      const existing = this.#find((pkt.connectionId + 1) & 0xffff, from);
      if (existing !== undefined) {
        existing.connection.receive(pkt);
        return;
      }
      this.#accept(pkt, from);
      return;
    }
    const tomb = this.#tombstone(pkt.connectionId, from);
    if (tomb !== undefined) {
      // A closed connection's peer resent its ST_FIN (our ACK was lost): acknowledge again.
      this.#sendBare(ST_STATE, tomb.sendId, tomb.seqNr, tomb.ackNr, from);
      return;
    }
    this.#toView(data, from);
    this.#sendBare(ST_RESET, pkt.connectionId, 0, pkt.seqNr, from);
  };

  #accept(syn: Packet, from: Address): void {
    const listener = this.#listener;
    let halfOpen = 0;
    for (const list of this.#byId.values()) {
      for (const s of list) if (s.connection.state === 'CS_SYN_RECV') halfOpen++;
    }
    if (
      listener === undefined ||
      halfOpen >= (this.#options.maxHalfOpen ?? 64) ||
      this.#count >= (this.#options.maxConnections ?? 4096)
    ) {
      // ST_RESET to the initiator uses its receive id, the ST_SYN's connection_id.
      this.#sendBare(ST_RESET, syn.connectionId, this.#random.int(0x10000), syn.seqNr, from);
      return;
    }
    const stream = new UtpStream(this, from);
    this.#add((syn.connectionId + 1) & 0xffff, stream);
    stream.connection = Connection.accept(
      this.clock,
      stream,
      syn,
      this.#random.int(0x10000),
      this.#options,
    );
    this.#afterReceive(stream);
    listener(stream);
  }

  #afterReceive(stream: UtpStream): void {
    if (!stream.connection.ackPending) return;
    this.#acks.add(stream);
    // Acks wait for the end of the current batch of datagrams (one timer turn).
    this.#ackTimer ??= this.clock.setTimeout(this.#flushAcks, 0);
  }

  readonly #flushAcks = (): void => {
    this.#ackTimer = undefined;
    for (const stream of this.#acks) stream.connection.flushAck();
    this.#acks.clear();
  };

  #toView(data: Uint8Array, from: Address): void {
    const handlers = this.#handlers;
    this.otherDatagrams++;
    for (const handler of handlers) handler(data, from);
  }

  #sendBare(type: number, id: number, seq: number, ack: number, to: Address): void {
    const out = new Uint8Array(HEADER_SIZE);
    writeHeaderUnchecked(out, type, 0, id & 0xffff, microseconds(this.clock.now()), 0, 0, seq, ack);
    this.send(out, to);
  }

  #add(recvId: number, stream: UtpStream): void {
    const list = this.#byId.get(recvId);
    if (list === undefined) this.#byId.set(recvId, [stream]);
    else list.push(stream);
    this.#count++;
  }

  #find(recvId: number, from: Address): UtpStream | undefined {
    const list = this.#byId.get(recvId & 0xffff);
    if (list === undefined) return undefined;
    for (const s of list) {
      if (s.remoteAddress.port === from.port && s.remoteAddress.host === from.host) return s;
    }
    return undefined;
  }

  #findBySendId(sendId: number, from: Address): UtpStream | undefined {
    for (const id of [(sendId - 1) & 0xffff, (sendId + 1) & 0xffff]) {
      const s = this.#find(id, from);
      if (s !== undefined && s.connection.sendId === sendId) return s;
    }
    return undefined;
  }

  #tombstone(recvId: number, from: Address): Tombstone | undefined {
    const k = key(from, recvId);
    const tomb = this.#tombstones.get(k);
    if (tomb === undefined) return undefined;
    if (tomb.until <= this.clock.now()) {
      this.#tombstones.delete(k);
      return undefined;
    }
    return tomb;
  }

  #maybeClose(): void {
    if (
      this.#closing ||
      this.#draining ||
      this.#count > 0 ||
      this.#listener !== undefined ||
      this.#viewOpen
    )
      return;
    const now = this.clock.now();
    let last = now;
    for (const [k, t] of this.#tombstones) {
      if (t.until <= now) this.#tombstones.delete(k);
      else last = Math.max(last, t.until);
    }
    if (last > now) {
      this.#lingerTimer?.cancel();
      this.#lingerTimer = this.clock.setTimeout(() => {
        this.#lingerTimer = undefined;
        this.#maybeClose();
      }, last - now);
      return;
    }
    this.#closing = this.#release();
  }

  async #release(): Promise<void> {
    this.#released = true;
    this.#lingerTimer?.cancel();
    this.#ackTimer?.cancel();
    this.#ackTimer = undefined;
    this.#acks.clear();
    this.#tombstones.clear();
    this.#listener = undefined;
    this.#handlers = [];
    this.#removeHandler();
    this.#onEmpty(this, false);
    // One timer turn first: a datagram sent just now (the ST_RESET of a destroy) is still on
    // its way into the kernel, and closing the socket at once would drop it.
    await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 0));
    await this.#socket.close();
    this.#onEmpty(this, true);
  }
}
