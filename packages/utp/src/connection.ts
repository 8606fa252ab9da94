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
 *
 * This file holds the handshake, the ACKs we send (ack_nr, the selective ACK), the timers and
 * teardown; the receiving half (ack_nr, the receive window, eof_pkt, when an ACK is owed) is
 * `Receiver` in ./receiver.ts, the sending half (send window, Nagle, retransmission, fast
 * retransmit) is `Sender` in ./sender.ts.
 */
import { type Clock, TransportError } from '@peerkit/transport';
import {
  type ConnectionHost,
  type ConnectionOptions,
  type ConnectionState,
  microseconds,
} from './connection-options';
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
import { Receiver } from './receiver';
import { RttEstimator } from './rtt';
import { buildSelectiveAck } from './sack';
import { Sender } from './sender';
import { seqAdd } from './seq';

export type { ConnectionHost, ConnectionOptions, ConnectionState } from './connection-options';
export { microseconds } from './connection-options';
export { DUPLICATE_ACKS_BEFORE_RESEND } from './sender';

const U32 = 0x1_0000_0000;
/** The shortest silence reported to the host (`onPeerSilent`), ms. */
const SILENCE_MIN_MS = 100;

export class Connection {
  state: ConnectionState;
  readonly recvId: number;
  readonly sendId: number;
  readonly #clock: Clock;
  readonly #host: ConnectionHost;
  readonly #synRetries: number;
  readonly #maxTimeouts: number;
  readonly #keepAliveMs: number;
  readonly #idleTimeoutMs: number;
  readonly ledbat: Ledbat;
  readonly rtt = new RttEstimator();
  readonly sizer: PacketSizer;

  /** The sending half (./sender.ts). */
  readonly #sender: Sender;

  /** The receiving half (./receiver.ts). */
  readonly #receiver: Receiver;
  #replyMicro = 0;
  #finAckedSeen = false;
  /** The host heard of the current silence (reset by every packet from the peer). */
  #silenceReported = false;

  // Timers (the retransmission timer is the sender's).
  #armedAt = Number.POSITIVE_INFINITY;
  #lastSent: number;
  #lastReceived: number;

  // Counters.
  readonly stats = {
    packetsSent: 0,
    packetsReceived: 0,
    retransmits: 0,
    bytesSent: 0,
    /** Losses found by three duplicate acks, by the selective ACK, and timeouts. */
    dupAckLosses: 0,
    sackLosses: 0,
    timeouts: 0,
  };

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
    this.#synRetries = options.synRetries ?? 2;
    this.#maxTimeouts = options.maxTimeouts ?? 4;
    this.#keepAliveMs = options.keepAliveMs ?? 29_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.#receiver = new Receiver(
      host,
      () => this.#sendAck(),
      options.recvBufferBytes ?? 1024 * 1024,
      options.ackEvery ?? 32,
      options.reorderPackets ?? 2048,
    );
    this.sizer = new PacketSizer(
      options.minPacketSize ?? MIN_PATH_PACKET,
      options.maxPacketSize ?? ETHERNET_PACKET_V4,
    );
    this.ledbat = new Ledbat({ initialWindow: 2 * this.sizer.ceiling, ...options.ledbat });
    this.#sender = new Sender(
      {
        clock,
        host,
        ledbat: this.ledbat,
        rtt: this.rtt,
        sizer: this.sizer,
        stats: this.stats,
        state: () => this.state,
        transmit: (out, type, seqNr, now) => this.#transmit(out, type, seqNr, now),
      },
      firstSeq,
      options.sendBufferBytes ?? 1024 * 1024,
    );
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
    c.#sender.sendSyn();
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
    c.#receiver.open(syn.seqNr);
    c.#sender.peerWindow = syn.wndSize;
    c.#noteTimestamp(syn);
    c.#sendAck();
    c.#schedule();
    return c;
  }

  // ---- The application side ------------------------------------------------------------------

  /** Bytes queued for sending plus bytes in flight. */
  get bufferedBytes(): number {
    return this.#sender.bufferedBytes;
  }

  /** Whether the writer may queue more without going over `sendBufferBytes`. */
  get writable(): boolean {
    return this.#sender.writable;
  }

  /** The peer's ST_FIN was seen and all data before it delivered. */
  get ended(): boolean {
    return this.#receiver.eofDelivered;
  }

  /** An ACK is owed and may wait for `flushAck`. */
  get ackPending(): boolean {
    return this.#receiver.ackPending;
  }

  get finSent(): boolean {
    return this.#sender.finSent;
  }

  /** Queues bytes (not copied); sends what the windows allow. */
  write(data: Uint8Array): void {
    if (this.#sender.ending || this.state === 'CS_CLOSED' || data.length === 0) return;
    this.#sender.queue(data);
    this.#sender.flush();
    this.#schedule();
  }

  /** No more writes: ST_FIN follows the queued data. */
  end(): void {
    if (this.#sender.ending || this.state === 'CS_CLOSED') return;
    this.#sender.end();
    this.#sender.flush();
    this.#schedule();
  }

  /** The reader took `bytes`: the receive window opens (with a window update when it was low). */
  consumed(bytes: number): void {
    if (this.#receiver.consumed(bytes) && this.state !== 'CS_CLOSED') this.#sendAck();
  }

  /** Aborts: sends ST_RESET and closes with `error` (undefined for a local abort). */
  reset(error?: TransportError): void {
    if (this.state === 'CS_CLOSED') return;
    if (this.#receiver.buffer !== undefined || this.state === 'CS_SYN_SENT') {
      const out = new Uint8Array(HEADER_SIZE);
      writeHeaderUnchecked(
        out,
        ST_RESET,
        0,
        this.sendId,
        microseconds(this.#clock.now()),
        this.#replyMicro,
        0,
        this.#sender.nextSeq,
        this.#receiver.ackNr,
      );
      this.#host.transmit(out);
    }
    this.#close(error);
  }

  /**
   * The peer's system said nothing listens on its port any more (ICMP port unreachable, e.g.
   * the process was killed): fail at once, as TCP does on a reset.
   */
  unreachable(): void {
    if (this.state === 'CS_CLOSED') return;
    const code = this.state === 'CS_SYN_SENT' ? 'CONNECTION_REFUSED' : 'CONNECTION_RESET';
    this.#close(new TransportError(code, `uTP: the peer's port is closed (ICMP port unreachable)`));
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
      if (pkt.ackNr !== this.#sender.oldestSeq) return;
      if (pkt.type === ST_FIN) {
        // ST_FIN in answer to ST_SYN: the peer accepted and closed at once, before any data, as
        // libtorrent does with a connection it turns away (e.g. one arriving while a torrent is
        // being added). It will not acknowledge anything more (nor reset), so treat it as a
        // refusal: the dialer may try again at once instead of waiting out 4 timeouts for the
        // ACK of our own ST_FIN.
        this.#close(
          new TransportError('CONNECTION_REFUSED', 'uTP: the peer answered ST_SYN with ST_FIN'),
        );
        return;
      }
      // BEP 29 diagram: c.ack_nr = pkt.seq_nr for the ST_STATE, which carries the acceptor's
      // next seq_nr without consuming it (libutp, libtorrent): so ack_nr = seq_nr - 1.
      const ackNr = seqAdd(pkt.seqNr, -1);
      this.#receiver.open(ackNr);
      this.state = 'CS_CONNECTED';
      this.#host.onConnected();
    } else if (this.state === 'CS_SYN_RECV') {
      this.state = 'CS_CONNECTED';
    }
    this.#lastReceived = now;
    this.#silenceReported = false;
    this.#noteTimestamp(pkt);
    if (!this.#sender.processAck(pkt, now)) return;
    if (!this.#finAckedSeen && this.#sender.done) {
      this.#finAckedSeen = true;
      this.#host.onFinAcked();
      if (this.#isClosed()) return;
    }
    if (pkt.type === ST_DATA || pkt.type === ST_FIN) this.#receiver.receiveData(pkt);
    if (this.#isClosed()) return;
    this.#sender.flush();
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
    if (now >= this.#sender.rtoAt) {
      this.#onTimeout(now);
      if (this.#isClosed()) return;
    }
    if (now >= this.#silenceAt() && this.state !== 'CS_SYN_SENT') this.#silent();
    if (
      this.state === 'CS_CONNECTED' &&
      now - this.#lastSent >= this.#keepAliveMs &&
      this.#sender.inFlightPackets === 0
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

  /** BEP 29 "timeouts": give up after too many in a row, else the sender resends. */
  #onTimeout(now: number): void {
    const timeouts = this.#sender.countTimeout();
    if (this.state === 'CS_SYN_SENT' && timeouts > this.#synRetries) {
      this.#close(new TransportError('CONNECTION_REFUSED', 'uTP: no answer to ST_SYN'));
      return;
    }
    if (timeouts > this.#maxTimeouts) {
      this.#close(new TransportError('TIMEOUT', 'uTP: the peer stopped acknowledging'));
      return;
    }
    this.#sender.onTimeout(now);
    // Every retransmission timeout is worth a look (an earlier one may have come too soon).
    this.#silenceReported = false;
    this.#silent();
  }

  /** Tells the host once per silence that the peer stopped answering. */
  #silent(): void {
    if (this.#silenceReported) return;
    this.#silenceReported = true;
    this.#host.onPeerSilent();
  }

  /** When an ACK is overdue: twice the round trip (at least `SILENCE_MIN_MS`) after the last packet. */
  #silenceAt(): number {
    if (this.#silenceReported || this.#sender.inFlightPackets === 0) {
      return Number.POSITIVE_INFINITY;
    }
    return this.#lastReceived + Math.max(SILENCE_MIN_MS, 2 * this.rtt.rtt);
  }

  /** Sends one of the sender's packets, with our half of the header: ack_nr, wnd_size, delay. */
  #transmit(out: Uint8Array, type: number, seqNr: number, now: number): void {
    writeHeaderUnchecked(
      out,
      type,
      0,
      type === ST_SYN ? this.recvId : this.sendId,
      microseconds(now),
      this.#replyMicro,
      this.#receiver.advertise(),
      seqNr,
      this.#receiver.ackNr,
    );
    this.#lastSent = now;
    this.#receiver.dataSent(); // a data packet carries ack_nr: a plain ACK is no longer owed
    this.#host.transmit(out);
  }

  /** ST_STATE: ack_nr, the selective ACK when packets wait past a gap, our window. */
  #sendAck(): void {
    const recv = this.#receiver.buffer;
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
      this.#receiver.advertise(),
      this.#sender.nextSeq,
      recv.ackNr,
    );
    if (sack !== undefined) {
      out[HEADER_SIZE] = 0;
      out[HEADER_SIZE + 1] = sack.length;
      out.set(sack, HEADER_SIZE + 2);
    }
    this.#receiver.acked();
    this.#lastSent = now;
    this.stats.packetsSent++;
    this.#host.transmit(out);
  }

  #isClosed(): boolean {
    return this.state === 'CS_CLOSED';
  }

  #checkDone(): void {
    if (this.#sender.done && this.#receiver.eofDelivered) this.#close(undefined);
  }

  #close(error: TransportError | undefined): void {
    if (this.state === 'CS_CLOSED') return;
    this.state = 'CS_CLOSED';
    this.#sender.clear();
    this.#host.onClose(error);
  }

  #schedule(): void {
    if (this.state === 'CS_CLOSED') return;
    let at = this.#sender.rtoAt;
    if (this.state !== 'CS_SYN_SENT') {
      at = Math.min(at, this.#silenceAt());
      at = Math.min(at, this.#lastReceived + this.#idleTimeoutMs);
      if (this.#sender.inFlightPackets === 0) at = Math.min(at, this.#lastSent + this.#keepAliveMs);
    }
    if (at < this.#armedAt) {
      this.#armedAt = at;
      this.#host.armTimer(at);
    }
  }

  /** Packets held in the send buffer (sent, not acknowledged). */
  get inFlightPackets(): number {
    return this.#sender.inFlightPackets;
  }

  /** `ack_nr`: the last packet received in order (0 before the handshake). */
  get ackNr(): number {
    return this.#receiver.ackNr;
  }

  /** `seq_nr` of our next packet. */
  get seqNr(): number {
    return this.#sender.nextSeq;
  }

  /** `cur_window`, bytes. */
  get curWindow(): number {
    return this.#sender.curWindow;
  }

  /** The peer's advertised window, bytes. */
  get peerWindow(): number {
    return this.#sender.peerWindow;
  }
}
