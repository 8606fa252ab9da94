/**
 * One uTP connection as a pure state machine (BEP 29, "connection setup", "packet loss",
 * "timeouts", "congestion control"): packets and the clock go in, datagrams and events come out
 * through `ConnectionHost`. No socket, no timer of its own: the host delivers packets with
 * `receive`, asks for the next deadline with `armTimer`, and calls `tick` when it is due.
 *
 * States (libutp's names): `CS_SYN_SENT` (we sent ST_SYN), `CS_SYN_RECV` (we answered a peer's
 * ST_SYN and saw nothing else yet), `CS_CONNECTED`, `CS_CLOSED`. Closing is per direction, as in
 * TCP: `end()` sends ST_FIN after the queued data (`eof_pkt` for the peer); the connection is
 * closed once our ST_FIN is acknowledged and the peer's ST_FIN and everything before it arrived.
 * `reset()` sends ST_RESET and closes at once.
 */
import { type Clock, TransportError } from '@peerkit/transport';
import { type ConnectionHost, type ConnectionOptions, microseconds } from './connection-options';
import {
  HEADER_SIZE,
  type Packet,
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  writeHeaderUnchecked,
} from './header';
import { Ledbat } from './ledbat';
import { ETHERNET_PACKET_V4, MIN_PATH_PACKET, PacketSizer } from './packet-size';
import { ReceiveBuffer } from './receive-buffer';
import { RttEstimator } from './rtt';
import { buildSelectiveAck, forEachSelectiveAck } from './sack';
import { MAX_SEND_PACKETS, SendBuffer } from './send-buffer';
import { seqAdd, seqLess } from './seq';
import { WriteQueue } from './write-queue';

export type { ConnectionHost, ConnectionOptions } from './connection-options';
export { microseconds } from './connection-options';

export type ConnectionState = 'CS_SYN_SENT' | 'CS_SYN_RECV' | 'CS_CONNECTED' | 'CS_CLOSED';

/** BEP 29 "packet loss": this many acks past a packet (duplicate or selective) mean it is lost. */
export const DUPLICATE_ACKS_BEFORE_RESEND = 3;

interface OutPacket {
  readonly seqNr: number;
  readonly type: number;
  /** The datagram as first sent (header rewritten into a copy on every resend). */
  readonly bytes: Uint8Array;
  readonly payloadLength: number;
  sentAt: number;
  transmissions: number;
  needResend: boolean;
  fastResent: boolean;
  /** The probe size when this packet probes the path, else 0. */
  probe: number;
}

const EMPTY = new Uint8Array(0);
const U32 = 0x1_0000_0000;

export class Connection {
  state: ConnectionState;
  readonly recvId: number;
  readonly sendId: number;
  readonly #clock: Clock;
  readonly #host: ConnectionHost;
  readonly #recvBufferBytes: number;
  readonly #sendBufferBytes: number;
  readonly #synRetries: number;
  readonly #maxTimeouts: number;
  readonly #keepAliveMs: number;
  readonly #idleTimeoutMs: number;
  readonly #ackEvery: number;
  readonly #reorderPackets: number;
  readonly ledbat: Ledbat;
  readonly rtt = new RttEstimator();
  readonly sizer: PacketSizer;

  // Sending.
  readonly #send: SendBuffer<OutPacket>;
  readonly #queue = new WriteQueue();
  /** `cur_window`: payload bytes sent and neither acknowledged nor marked for resending. */
  #curWindow = 0;
  #heldBytes = 0;
  #resendCount = 0;
  #peerWnd = 64 * 1024;
  #dupAcks = 0;
  #lossEpoch: number;
  #forceOne = false;
  #ending = false;
  #finSent = false;
  #finAcked = false;
  #writableWanted = false;

  // Receiving.
  #recv: ReceiveBuffer | undefined;
  #eofPkt: number | undefined;
  #eofDelivered = false;
  #unread = 0;
  #lastAdvertised = 0;
  #replyMicro = 0;
  #unackedData = 0;
  /** An ACK is owed and may wait for `flushAck`. */
  ackPending = false;

  // Timers.
  #rtoAt = Number.POSITIVE_INFINITY;
  #armedAt = Number.POSITIVE_INFINITY;
  #timeouts = 0;
  #lastSent: number;
  #lastReceived: number;
  #ackNow = 0;
  #ackedBytes = 0;

  // Counters.
  readonly stats = { packetsSent: 0, packetsReceived: 0, retransmits: 0, bytesSent: 0 };

  private constructor(
    clock: Clock,
    host: ConnectionHost,
    state: ConnectionState,
    recvId: number,
    sendId: number,
    firstSeq: number,
    options: ConnectionOptions,
  ) {
    this.#clock = clock;
    this.#host = host;
    this.state = state;
    this.recvId = recvId;
    this.sendId = sendId;
    this.#recvBufferBytes = options.recvBufferBytes ?? 1024 * 1024;
    this.#sendBufferBytes = options.sendBufferBytes ?? 1024 * 1024;
    this.#synRetries = options.synRetries ?? 2;
    this.#maxTimeouts = options.maxTimeouts ?? 6;
    this.#keepAliveMs = options.keepAliveMs ?? 29_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.#ackEvery = options.ackEvery ?? 8;
    this.#reorderPackets = options.reorderPackets ?? 2048;
    this.sizer = new PacketSizer(
      options.minPacketSize ?? MIN_PATH_PACKET,
      options.maxPacketSize ?? ETHERNET_PACKET_V4,
    );
    this.ledbat = new Ledbat({ initialWindow: 2 * this.sizer.ceiling, ...options.ledbat });
    this.#send = new SendBuffer<OutPacket>(firstSeq);
    this.#lossEpoch = firstSeq;
    const now = clock.now();
    this.#lastSent = now;
    this.#lastReceived = now;
  }

  /** The initiating side: picks `conn_id_recv`, sends ST_SYN with seq_nr 1 (BEP 29). */
  static connect(
    clock: Clock,
    host: ConnectionHost,
    recvId: number,
    options: ConnectionOptions = {},
  ): Connection {
    const c = new Connection(clock, host, 'CS_SYN_SENT', recvId, (recvId + 1) & 0xffff, 1, options);
    c.#pushPacket(ST_SYN, EMPTY, 0);
    c.#schedule();
    return c;
  }

  /**
   * The accepting side, for an incoming ST_SYN: `conn_id_recv = pkt.conn_id + 1`,
   * `conn_id_send = pkt.conn_id`, a random `seq_nr`, `ack_nr = pkt.seq_nr`; answers ST_STATE.
   */
  static accept(
    clock: Clock,
    host: ConnectionHost,
    syn: Packet,
    firstSeq: number,
    options: ConnectionOptions = {},
  ): Connection {
    const c = new Connection(
      clock,
      host,
      'CS_SYN_RECV',
      (syn.connectionId + 1) & 0xffff,
      syn.connectionId,
      firstSeq,
      options,
    );
    c.#recv = new ReceiveBuffer(syn.seqNr, c.#deliver, c.#reorderPackets);
    c.#peerWnd = syn.wndSize;
    c.#noteTimestamp(syn);
    c.#sendAck();
    c.#schedule();
    return c;
  }

  // ---- The application side ------------------------------------------------------------------

  /** Bytes queued for sending plus bytes in flight. */
  get bufferedBytes(): number {
    return this.#queue.bytes + this.#heldBytes;
  }

  /** Whether the writer may queue more without going over `sendBufferBytes`. */
  get writable(): boolean {
    return this.bufferedBytes < this.#sendBufferBytes;
  }

  /** The peer's ST_FIN was seen and all data before it delivered. */
  get ended(): boolean {
    return this.#eofDelivered;
  }

  get finSent(): boolean {
    return this.#finSent;
  }

  /** Queues bytes (not copied); sends what the windows allow. */
  write(data: Uint8Array): void {
    if (this.#ending || this.state === 'CS_CLOSED' || data.length === 0) return;
    this.#queue.push(data);
    if (!this.writable) this.#writableWanted = true;
    this.#flush();
    this.#schedule();
  }

  /** No more writes: ST_FIN follows the queued data. */
  end(): void {
    if (this.#ending || this.state === 'CS_CLOSED') return;
    this.#ending = true;
    this.#flush();
    this.#schedule();
  }

  /** The reader took `bytes`: the receive window opens (with a window update when it was low). */
  consumed(bytes: number): void {
    this.#unread = Math.max(0, this.#unread - bytes);
    if (this.state === 'CS_CLOSED') return;
    const window = this.#window();
    if (this.#lastAdvertised < this.#recvBufferBytes / 4 && window >= this.#recvBufferBytes / 2) {
      this.#sendAck();
    }
  }

  /** Aborts: sends ST_RESET and closes with `error` (undefined for a local abort). */
  reset(error?: TransportError): void {
    if (this.state === 'CS_CLOSED') return;
    if (this.#recv !== undefined || this.state === 'CS_SYN_SENT') {
      const out = new Uint8Array(HEADER_SIZE);
      writeHeaderUnchecked(
        out,
        ST_RESET,
        0,
        this.sendId,
        microseconds(this.#clock.now()),
        this.#replyMicro,
        0,
        this.#send.nextSeq,
        this.#recv?.ackNr ?? 0,
      );
      this.#host.transmit(out);
    }
    this.#close(error);
  }

  /** Sends the owed ACK, if any (the host calls it after a batch of datagrams). */
  flushAck(): void {
    if (this.ackPending && this.state !== 'CS_CLOSED') this.#sendAck();
  }

  // ---- The network side -------------------------------------------------------------------

  /** One packet addressed to this connection. */
  receive(pkt: Packet): void {
    if (this.state === 'CS_CLOSED') return;
    const now = this.#clock.now();
    this.stats.packetsReceived++;
    if (pkt.type === ST_RESET) {
      const code = this.state === 'CS_SYN_SENT' ? 'CONNECTION_REFUSED' : 'CONNECTION_RESET';
      this.#close(new TransportError(code, `uTP: the peer reset the connection (ST_RESET)`));
      return;
    }
    if (pkt.type === ST_SYN) {
      // A resent ST_SYN: our ST_STATE was lost. Answer again.
      if (this.state !== 'CS_SYN_SENT') this.#sendAck();
      return;
    }
    if (this.state === 'CS_SYN_SENT') {
      // Only the ACK of our ST_SYN opens the connection (seq_nr 1).
      if (pkt.ackNr !== this.#send.oldestSeq) return;
      // BEP 29 diagram: c.ack_nr = pkt.seq_nr for the ST_STATE, which carries the acceptor's
      // next seq_nr without consuming it (libutp, libtorrent): so ack_nr = seq_nr - 1.
      const ackNr = seqAdd(pkt.seqNr, -1);
      this.#recv = new ReceiveBuffer(ackNr, this.#deliver, this.#reorderPackets);
      this.state = 'CS_CONNECTED';
      this.#host.onConnected();
    } else if (this.state === 'CS_SYN_RECV') {
      this.state = 'CS_CONNECTED';
    }
    this.#lastReceived = now;
    this.#noteTimestamp(pkt);
    if (!this.#processAck(pkt, now)) return;
    if (pkt.type === ST_DATA || pkt.type === ST_FIN) this.#receiveData(pkt);
    if (this.#isClosed()) return;
    this.#flush();
    this.#checkDone();
    this.#schedule();
  }

  /** The timer the host armed fired (or any time: it only acts on what is due). */
  tick(): void {
    this.#armedAt = Number.POSITIVE_INFINITY;
    if (this.state === 'CS_CLOSED') return;
    const now = this.#clock.now();
    if (now - this.#lastReceived >= this.#idleTimeoutMs && this.state !== 'CS_SYN_SENT') {
      this.#close(new TransportError('TIMEOUT', 'uTP: nothing received for too long'));
      return;
    }
    if (now >= this.#rtoAt) {
      this.#onTimeout(now);
      if (this.#isClosed()) return;
    }
    if (
      this.state === 'CS_CONNECTED' &&
      now - this.#lastSent >= this.#keepAliveMs &&
      this.#send.size === 0
    ) {
      this.#sendAck();
    }
    this.#schedule();
  }

  // ---- Internals --------------------------------------------------------------------------

  #noteTimestamp(pkt: Packet): void {
    // BEP 29: reply_micro = our time - timestamp_microseconds, echoed in every packet we send.
    if (pkt.timestampMicroseconds !== 0) {
      this.#replyMicro = (microseconds(this.#clock.now()) - pkt.timestampMicroseconds + U32) % U32;
    }
  }

  #window(): number {
    const recv = this.#recv;
    return Math.max(0, this.#recvBufferBytes - this.#unread - (recv?.waitingBytes ?? 0));
  }

  /** Applies ack_nr and the selective ACK; returns false when the packet must be dropped. */
  #processAck(pkt: Packet, now: number): boolean {
    const send = this.#send;
    const windowFull =
      this.#curWindow + this.sizer.size > Math.min(this.ledbat.maxWindow, this.#peerWnd);
    this.#peerWnd = pkt.wndSize;
    this.#ackNow = now;
    this.#ackedBytes = 0;
    const released = send.ackThrough(pkt.ackNr, this.#onAcked);
    if (released === -1) {
      // An ack_nr ahead of anything we sent belongs to no packet of ours: drop the packet.
      // One behind our window is merely old (reordered); its data is still good.
      if (!seqLess(pkt.ackNr, seqAdd(send.oldestSeq, -1))) return false;
    }
    const sack = pkt.selectiveAck;
    if (sack !== undefined) {
      forEachSelectiveAck(pkt.ackNr, sack, (seq) => {
        const packet = send.ackOne(seq);
        if (packet !== undefined) this.#onAcked(packet);
      });
    }
    // The echoed delay is that of the last packet the peer got from us. Only a packet that
    // acknowledges data is taken: a delay measured on the tiny ST_SYN lacks the serialization
    // time every data packet has, and would make the base delay too low for good.
    if (pkt.timestampDifferenceMicroseconds !== 0 && this.#ackedBytes > 0) {
      this.ledbat.onDelaySample(pkt.timestampDifferenceMicroseconds, now);
    }
    const progressed = released > 0 || this.#ackedBytes > 0;
    if (progressed) {
      this.#dupAcks = 0;
      this.#timeouts = 0;
      this.#rtoAt = send.size > 0 ? now + this.rtt.timeout : Number.POSITIVE_INFINITY;
      this.ledbat.onAck(this.#ackedBytes, windowFull, this.sizer.size, now, this.rtt.rtt);
    } else if (
      released === 0 &&
      pkt.type === ST_STATE &&
      send.size > 0 &&
      ++this.#dupAcks === DUPLICATE_ACKS_BEFORE_RESEND
    ) {
      // Three duplicate acks: ack_nr + 1 is lost.
      const oldest = send.get(send.oldestSeq);
      if (oldest !== undefined) this.#markLost(oldest, true);
    }
    if (sack !== undefined) this.#detectSackLoss();
    if (this.#writableWanted && this.writable) {
      this.#writableWanted = false;
      this.#host.onWritable();
    }
    return true;
  }

  readonly #onAcked = (p: OutPacket): void => {
    if (p.needResend) this.#resendCount--;
    else this.#curWindow -= p.payloadLength;
    this.#heldBytes -= p.payloadLength;
    this.#ackedBytes += p.payloadLength;
    if (p.transmissions === 1) this.rtt.sample(this.#ackNow - p.sentAt);
    if (p.probe !== 0) this.sizer.onProbeAcked(p.probe);
    if (p.type === ST_FIN) this.#finAcked = true;
  };

  /** BEP 29: a packet with 3 or more selectively acked packets after it is lost. */
  #detectSackLoss(): void {
    const send = this.#send;
    let after = 0;
    for (let i = send.span - 1; i >= 0; i--) {
      const p = send.at(i);
      if (p === undefined) after++;
      else if (after >= DUPLICATE_ACKS_BEFORE_RESEND && !p.fastResent && !p.needResend) {
        this.#markLost(p, true);
      }
    }
  }

  #markLost(p: OutPacket, fast: boolean): void {
    if (p.needResend) return;
    p.needResend = true;
    if (fast) p.fastResent = true;
    this.#resendCount++;
    this.#curWindow -= p.payloadLength;
    if (p.probe !== 0) {
      // A lost probe says the path is narrower; it is no sign of congestion.
      this.sizer.onProbeLost(p.probe);
      p.probe = 0;
      return;
    }
    // Halve once per window: losses of packets sent before the last cut do not count again.
    if (!seqLess(p.seqNr, this.#lossEpoch)) {
      this.ledbat.onLoss(this.sizer.size);
      this.#lossEpoch = this.#send.nextSeq;
    }
  }

  #receiveData(pkt: Packet): void {
    const recv = this.#recv;
    if (recv === undefined) return;
    if (pkt.type === ST_FIN && this.#eofPkt === undefined) this.#eofPkt = pkt.seqNr;
    const eof = this.#eofPkt;
    if (eof !== undefined && seqLess(eof, pkt.seqNr)) return; // nothing exists past eof_pkt
    const result = recv.insert(pkt.seqNr, pkt.type === ST_FIN ? EMPTY : pkt.payload);
    if (result === 'delivered' && recv.waitingPackets === 0 && pkt.type === ST_DATA) {
      this.ackPending = true;
      if (++this.#unackedData >= this.#ackEvery) this.#sendAck();
    } else {
      // Out of order, duplicate, or the FIN: acknowledge now (with the selective ACK).
      this.#sendAck();
    }
  }

  readonly #deliver = (payload: Uint8Array, seq: number): void => {
    if (seq === this.#eofPkt) {
      this.#eofDelivered = true;
      this.#host.onEnd();
      return;
    }
    if (this.#eofDelivered || payload.length === 0) return;
    this.#unread += payload.length;
    this.#host.onData(payload);
  };

  #onTimeout(now: number): void {
    const send = this.#send;
    this.#timeouts++;
    if (this.state === 'CS_SYN_SENT' && this.#timeouts > this.#synRetries) {
      this.#close(new TransportError('CONNECTION_REFUSED', 'uTP: no answer to ST_SYN'));
      return;
    }
    if (this.#timeouts > this.#maxTimeouts) {
      this.#close(new TransportError('TIMEOUT', 'uTP: the peer stopped acknowledging'));
      return;
    }
    this.rtt.backOff();
    if (send.size > 0) {
      // BEP 29 "timeouts": the window drops to one packet; everything in flight is resent.
      this.ledbat.onTimeout(this.sizer.size);
      send.forEach((p) => {
        if (!p.needResend) {
          if (p.probe !== 0) {
            this.sizer.onProbeLost(p.probe);
            p.probe = 0;
          }
          p.needResend = true;
          this.#resendCount++;
          this.#curWindow -= p.payloadLength;
        }
      });
      this.#lossEpoch = send.nextSeq;
    }
    // A zero window with nothing in flight: probe with one packet.
    this.#forceOne = true;
    this.#rtoAt = now + this.rtt.timeout;
    this.#flush();
  }

  #windowAllows(bytes: number): boolean {
    const limit = Math.min(this.ledbat.maxWindow, this.#peerWnd);
    if (this.#curWindow + bytes <= limit) return true;
    // BEP 29 allows one packet when max_window is smaller than a packet.
    if (this.#curWindow === 0 && this.#peerWnd >= bytes) return true;
    if (this.#forceOne) {
      this.#forceOne = false;
      return true;
    }
    return false;
  }

  #flush(): void {
    if (this.state === 'CS_CLOSED' || this.state === 'CS_SYN_SENT') {
      if (this.state === 'CS_SYN_SENT' && this.#resendCount > 0) this.#resend();
      return;
    }
    if (this.#resendCount > 0 && !this.#resend()) return;
    const send = this.#send;
    while (this.#queue.bytes > 0) {
      const probe = this.sizer.nextProbe();
      const size = probe !== 0 ? probe : this.sizer.size;
      const room = size - HEADER_SIZE;
      const n = Math.min(room, this.#queue.bytes);
      // Nagle: a short packet waits while others are in flight, unless we are ending.
      if (n < room && send.size > 0 && !this.#ending) break;
      if (!this.#windowAllows(n)) break;
      if (send.span >= MAX_SEND_PACKETS - 1) break;
      const p = this.#pushPacket(ST_DATA, EMPTY, n);
      if (probe !== 0 && n === room) {
        p.probe = probe;
        this.sizer.probing = probe;
      }
    }
    if (this.#ending && !this.#finSent && this.#queue.bytes === 0 && this.#windowAllows(0)) {
      this.#finSent = true;
      this.#pushPacket(ST_FIN, EMPTY, 0);
      this.#host.onFinSent();
    }
    if (this.#queue.bytes > 0 && send.size === 0 && this.#rtoAt === Number.POSITIVE_INFINITY) {
      // Blocked by the peer's window with nothing in flight: the timer probes it.
      this.#rtoAt = this.#clock.now() + this.rtt.timeout;
    }
  }

  /** Resends packets marked lost, oldest first; false when the window stopped it. */
  #resend(): boolean {
    const send = this.#send;
    for (let i = 0; i < send.span && this.#resendCount > 0; i++) {
      const p = send.at(i);
      if (p === undefined || !p.needResend) continue;
      if (!this.#windowAllows(p.payloadLength)) return false;
      p.needResend = false;
      this.#resendCount--;
      this.stats.retransmits++;
      this.#transmit(p);
    }
    return true;
  }

  /** Builds a packet carrying `n` queued bytes (or `payload`), buffers it and sends it. */
  #pushPacket(type: number, payload: Uint8Array, n: number): OutPacket {
    const length = type === ST_DATA ? n : payload.length;
    const bytes = new Uint8Array(HEADER_SIZE + length);
    if (type === ST_DATA) this.#queue.take(bytes, HEADER_SIZE, n);
    else if (length > 0) bytes.set(payload, HEADER_SIZE);
    const p: OutPacket = {
      seqNr: this.#send.nextSeq,
      type,
      bytes,
      payloadLength: length,
      sentAt: 0,
      transmissions: 0,
      needResend: false,
      fastResent: false,
      probe: 0,
    };
    this.#send.push(p);
    this.#heldBytes += length;
    this.#transmit(p);
    return p;
  }

  #transmit(p: OutPacket): void {
    const now = this.#clock.now();
    // The first transmission sends the buffer itself; a resend sends a copy, because the
    // socket may still hold the first one.
    const out = p.transmissions === 0 ? p.bytes : p.bytes.slice();
    writeHeaderUnchecked(
      out,
      p.type,
      0,
      p.type === ST_SYN ? this.recvId : this.sendId,
      microseconds(now),
      this.#replyMicro,
      this.#advertise(),
      p.seqNr,
      this.#recv?.ackNr ?? 0,
    );
    p.transmissions++;
    p.sentAt = now;
    this.#curWindow += p.payloadLength;
    if (this.#rtoAt === Number.POSITIVE_INFINITY) this.#rtoAt = now + this.rtt.timeout;
    this.#lastSent = now;
    this.stats.packetsSent++;
    this.stats.bytesSent += p.payloadLength;
    // A data packet carries ack_nr: a pending plain ACK is no longer owed.
    if (this.#recv !== undefined && this.#recv.waitingPackets === 0) {
      this.ackPending = false;
      this.#unackedData = 0;
    }
    this.#host.transmit(out);
  }

  #advertise(): number {
    const window = this.#window();
    this.#lastAdvertised = window;
    return window;
  }

  /** ST_STATE: ack_nr, the selective ACK when packets wait past a gap, our window. */
  #sendAck(): void {
    const recv = this.#recv;
    if (recv === undefined) return;
    const sack = buildSelectiveAck(recv);
    const out = new Uint8Array(HEADER_SIZE + (sack === undefined ? 0 : 2 + sack.length));
    const now = this.#clock.now();
    writeHeaderUnchecked(
      out,
      ST_STATE,
      sack === undefined ? 0 : 1,
      this.sendId,
      microseconds(now),
      this.#replyMicro,
      this.#advertise(),
      this.#send.nextSeq,
      recv.ackNr,
    );
    if (sack !== undefined) {
      out[HEADER_SIZE] = 0;
      out[HEADER_SIZE + 1] = sack.length;
      out.set(sack, HEADER_SIZE + 2);
    }
    this.ackPending = false;
    this.#unackedData = 0;
    this.#lastSent = now;
    this.stats.packetsSent++;
    this.#host.transmit(out);
  }

  #isClosed(): boolean {
    return this.state === 'CS_CLOSED';
  }

  #checkDone(): void {
    if (this.#finAcked && this.#eofDelivered && this.#send.size === 0) this.#close(undefined);
  }

  #close(error: TransportError | undefined): void {
    if (this.state === 'CS_CLOSED') return;
    this.state = 'CS_CLOSED';
    this.#send.clear();
    this.#queue.clear();
    this.#heldBytes = 0;
    this.#host.onClose(error);
  }

  #schedule(): void {
    if (this.state === 'CS_CLOSED') return;
    let at = this.#rtoAt;
    if (this.state !== 'CS_SYN_SENT') {
      at = Math.min(at, this.#lastReceived + this.#idleTimeoutMs);
      if (this.#send.size === 0) at = Math.min(at, this.#lastSent + this.#keepAliveMs);
    }
    if (at < this.#armedAt) {
      this.#armedAt = at;
      this.#host.armTimer(at);
    }
  }

  /** Packets held in the send buffer (sent, not acknowledged). */
  get inFlightPackets(): number {
    return this.#send.size;
  }

  /** `ack_nr`: the last packet received in order (0 before the handshake). */
  get ackNr(): number {
    return this.#recv?.ackNr ?? 0;
  }

  /** `seq_nr` of our next packet. */
  get seqNr(): number {
    return this.#send.nextSeq;
  }

  /** `cur_window`, bytes. */
  get curWindow(): number {
    return this.#curWindow;
  }

  /** The peer's advertised window, bytes. */
  get peerWindow(): number {
    return this.#peerWnd;
  }
}
