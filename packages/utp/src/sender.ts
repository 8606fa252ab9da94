/**
 * The sending half of a uTP connection (BEP 29 "packet loss", "timeouts", "congestion
 * control"): the write queue cut into packets, the send window (`cur_window` against
 * min(`max_window`, the peer's `wnd_size`)), Nagle, acknowledgements (ack_nr and the selective
 * ACK), fast retransmit after three duplicate or selective acks, and resending everything on a
 * timeout. Pure like the connection it belongs to: the clock and the host come in through
 * `SenderContext`, and the header fields of the receiving half (ack_nr, wnd_size, the echoed
 * delay) are written by the connection in `SenderContext.transmit`.
 */
import type { Clock } from '@peerkit/transport';
import type { ConnectionHost, ConnectionState } from './connection-options';
import { HEADER_SIZE, type Packet, ST_DATA, ST_FIN, ST_STATE, ST_SYN } from './header';
import type { Ledbat } from './ledbat';
import type { PacketSizer } from './packet-size';
import type { RttEstimator } from './rtt';
import { forEachSelectiveAck } from './sack';
import { MAX_SEND_PACKETS, SendBuffer } from './send-buffer';
import { seqAdd, seqLess } from './seq';
import { WriteQueue } from './write-queue';

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

/** What the sending half shares with its connection. */
export interface SenderContext {
  readonly clock: Clock;
  readonly host: ConnectionHost;
  readonly ledbat: Ledbat;
  readonly rtt: RttEstimator;
  readonly sizer: PacketSizer;
  readonly stats: {
    packetsSent: number;
    retransmits: number;
    bytesSent: number;
    dupAckLosses: number;
    sackLosses: number;
    timeouts: number;
  };
  /** The connection's state now. */
  state(): ConnectionState;
  /** Writes the packet's header (with the receiving half's fields) and sends the datagram. */
  transmit(out: Uint8Array, type: number, seqNr: number, now: number): void;
}

const EMPTY = new Uint8Array(0);
/**
 * Packets are cut from slabs of this many bytes: one allocation per ~170 full packets instead
 * of one backing store per packet (a slab lives until its last packet is acknowledged).
 */
const SLAB_BYTES = 256 * 1024;

export class Sender {
  readonly #ctx: SenderContext;
  readonly #sendBufferBytes: number;
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
  /** When the retransmission timer fires (infinity when nothing is outstanding). */
  #rtoAt = Number.POSITIVE_INFINITY;
  #timeouts = 0;
  #ackNow = 0;
  #ackedBytes = 0;
  #slab = new ArrayBuffer(0);
  #slabOffset = 0;

  constructor(ctx: SenderContext, firstSeq: number, sendBufferBytes: number) {
    this.#ctx = ctx;
    this.#sendBufferBytes = sendBufferBytes;
    this.#send = new SendBuffer<OutPacket>(firstSeq);
    this.#lossEpoch = firstSeq;
  }

  /** Bytes queued for sending plus bytes in flight. */
  get bufferedBytes(): number {
    return this.#queue.bytes + this.#heldBytes;
  }

  /** Whether the writer may queue more without going over `sendBufferBytes`. */
  get writable(): boolean {
    return this.bufferedBytes < this.#sendBufferBytes;
  }

  get ending(): boolean {
    return this.#ending;
  }

  get finSent(): boolean {
    return this.#finSent;
  }

  /** Our ST_FIN was sent and acknowledged, and nothing else is in flight. */
  get done(): boolean {
    return this.#finAcked && this.#send.size === 0;
  }

  /** Packets held in the send buffer (sent, not acknowledged). */
  get inFlightPackets(): number {
    return this.#send.size;
  }

  /** `seq_nr` of our next packet. */
  get nextSeq(): number {
    return this.#send.nextSeq;
  }

  /** The oldest packet not acknowledged (our ST_SYN during the handshake). */
  get oldestSeq(): number {
    return this.#send.oldestSeq;
  }

  /** `cur_window`, bytes. */
  get curWindow(): number {
    return this.#curWindow;
  }

  /** The peer's advertised window, bytes. */
  get peerWindow(): number {
    return this.#peerWnd;
  }
  set peerWindow(bytes: number) {
    this.#peerWnd = bytes;
  }

  /** When the retransmission timer is due. */
  get rtoAt(): number {
    return this.#rtoAt;
  }

  /** Sends ST_SYN (BEP 29 "connection setup"). */
  sendSyn(): void {
    this.#pushPacket(ST_SYN, EMPTY, 0);
  }

  /** Queues bytes (not copied); false when writing has ended or there is nothing to queue. */
  queue(data: Uint8Array): boolean {
    if (this.#ending || data.length === 0) return false;
    this.#queue.push(data);
    if (!this.writable) this.#writableWanted = true;
    return true;
  }

  /** No more writes: ST_FIN follows the queued data. False when already ending. */
  end(): boolean {
    if (this.#ending) return false;
    this.#ending = true;
    return true;
  }

  /** Forgets everything queued and in flight (the connection closed). */
  clear(): void {
    this.#send.clear();
    this.#queue.clear();
    this.#heldBytes = 0;
  }

  /** Applies ack_nr and the selective ACK; returns false when the packet must be dropped. */
  processAck(pkt: Packet, now: number): boolean {
    const { ledbat, rtt, sizer } = this.#ctx;
    const send = this.#send;
    const windowFull = this.#curWindow + sizer.size > Math.min(ledbat.maxWindow, this.#peerWnd);
    // A window update (the peer's reader took data) is no duplicate ACK, as in TCP (RFC 5681):
    // libtorrent sends one whenever its reader drains, with the same ack_nr.
    const windowUpdate = pkt.wndSize !== this.#peerWnd;
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
      ledbat.onDelaySample(pkt.timestampDifferenceMicroseconds, now);
    }
    const progressed = released > 0 || this.#ackedBytes > 0;
    if (progressed) {
      this.#dupAcks = 0;
      this.#timeouts = 0;
      this.#rtoAt = send.size > 0 ? now + rtt.timeout : Number.POSITIVE_INFINITY;
      ledbat.onAck(this.#ackedBytes, windowFull, sizer.size, now, rtt.rtt);
    } else if (
      released === 0 &&
      pkt.type === ST_STATE &&
      !windowUpdate &&
      send.size > 0 &&
      ++this.#dupAcks === DUPLICATE_ACKS_BEFORE_RESEND
    ) {
      // Three duplicate acks: ack_nr + 1 is lost.
      const oldest = send.get(send.oldestSeq);
      if (oldest !== undefined && !oldest.needResend) {
        this.#ctx.stats.dupAckLosses++;
        this.#markLost(oldest, true);
      }
    }
    if (sack !== undefined) this.#detectSackLoss();
    if (this.#writableWanted && this.writable) {
      this.#writableWanted = false;
      this.#ctx.host.onWritable();
    }
    return true;
  }

  readonly #onAcked = (p: OutPacket): void => {
    if (p.needResend) this.#resendCount--;
    else this.#curWindow -= p.payloadLength;
    this.#heldBytes -= p.payloadLength;
    this.#ackedBytes += p.payloadLength;
    if (p.transmissions === 1) this.#ctx.rtt.sample(this.#ackNow - p.sentAt);
    if (p.probe !== 0) this.#ctx.sizer.onProbeAcked(p.probe);
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
        this.#ctx.stats.sackLosses++;
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
      this.#ctx.sizer.onProbeLost(p.probe);
      p.probe = 0;
      return;
    }
    // Halve once per window: losses of packets sent before the last cut do not count again.
    if (!seqLess(p.seqNr, this.#lossEpoch)) {
      this.#ctx.ledbat.onLoss(this.#ctx.sizer.size);
      this.#lossEpoch = this.#send.nextSeq;
    }
  }

  /** Counts one more consecutive timeout and returns how many there were. */
  countTimeout(): number {
    return ++this.#timeouts;
  }

  /** The retransmission timer fired (and the connection goes on): resend what is in flight. */
  onTimeout(now: number): void {
    const { ledbat, rtt, sizer } = this.#ctx;
    const send = this.#send;
    rtt.backOff();
    this.#ctx.stats.timeouts++;
    if (send.size > 0) {
      // BEP 29 "timeouts": the window drops to one packet; everything in flight is resent.
      ledbat.onTimeout(sizer.size);
      send.forEach((p) => {
        if (!p.needResend) {
          if (p.probe !== 0) {
            sizer.onProbeLost(p.probe);
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
    this.#rtoAt = now + rtt.timeout;
    this.flush();
  }

  #windowAllows(bytes: number): boolean {
    const limit = Math.min(this.#ctx.ledbat.maxWindow, this.#peerWnd);
    if (this.#curWindow + bytes <= limit) return true;
    // BEP 29 allows one packet when max_window is smaller than a packet.
    if (this.#curWindow === 0 && this.#peerWnd >= bytes) return true;
    if (this.#forceOne) {
      this.#forceOne = false;
      return true;
    }
    return false;
  }

  /** Sends what the windows allow: resends first, then new data (Nagle), then ST_FIN. */
  flush(): void {
    const state = this.#ctx.state();
    if (state === 'CS_CLOSED' || state === 'CS_SYN_SENT') {
      if (state === 'CS_SYN_SENT' && this.#resendCount > 0) this.#resend();
      return;
    }
    if (this.#resendCount > 0 && !this.#resend()) return;
    const send = this.#send;
    const sizer = this.#ctx.sizer;
    while (this.#queue.bytes > 0) {
      const probe = sizer.nextProbe();
      const size = probe !== 0 ? probe : sizer.size;
      const room = size - HEADER_SIZE;
      const n = Math.min(room, this.#queue.bytes);
      // Nagle: a short packet waits while others are in flight, unless we are ending.
      if (n < room && send.size > 0 && !this.#ending) break;
      if (!this.#windowAllows(n)) break;
      if (send.span >= MAX_SEND_PACKETS - 1) break;
      const p = this.#pushPacket(ST_DATA, EMPTY, n);
      if (probe !== 0 && n === room) {
        p.probe = probe;
        sizer.probing = probe;
      }
    }
    if (this.#ending && !this.#finSent && this.#queue.bytes === 0 && this.#windowAllows(0)) {
      this.#finSent = true;
      this.#pushPacket(ST_FIN, EMPTY, 0);
      this.#ctx.host.onFinSent();
    }
    if (this.#queue.bytes > 0 && send.size === 0 && this.#rtoAt === Number.POSITIVE_INFINITY) {
      // Blocked by the peer's window with nothing in flight: the timer probes it.
      this.#rtoAt = this.#ctx.clock.now() + this.#ctx.rtt.timeout;
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
      this.#ctx.stats.retransmits++;
      this.#transmit(p);
    }
    return true;
  }

  /** Builds a packet carrying `n` queued bytes (or `payload`), buffers it and sends it. */
  #pushPacket(type: number, payload: Uint8Array, n: number): OutPacket {
    const length = type === ST_DATA ? n : payload.length;
    const bytes = this.#allocate(HEADER_SIZE + length);
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

  /** `size` fresh zeroed bytes of the current slab (a new slab when it is used up). */
  #allocate(size: number): Uint8Array {
    if (this.#slabOffset + size > this.#slab.byteLength) {
      this.#slab = new ArrayBuffer(Math.max(SLAB_BYTES, size));
      this.#slabOffset = 0;
    }
    const bytes = new Uint8Array(this.#slab, this.#slabOffset, size);
    this.#slabOffset += size;
    return bytes;
  }

  #transmit(p: OutPacket): void {
    const now = this.#ctx.clock.now();
    // The first transmission sends the buffer itself; a resend sends a copy, because the
    // socket may still hold the first one.
    const out = p.transmissions === 0 ? p.bytes : p.bytes.slice();
    p.transmissions++;
    p.sentAt = now;
    this.#curWindow += p.payloadLength;
    if (this.#rtoAt === Number.POSITIVE_INFINITY) this.#rtoAt = now + this.#ctx.rtt.timeout;
    this.#ctx.stats.packetsSent++;
    this.#ctx.stats.bytesSent += p.payloadLength;
    this.#ctx.transmit(out, p.type, p.seqNr, now);
  }
}
