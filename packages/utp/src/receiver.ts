/**
 * The receiving half of a uTP connection (BEP 29, "connection setup" and "packet loss"): ack_nr
 * and the packets waiting past a gap (./receive-buffer.ts), eof_pkt (the seq_nr of the peer's
 * ST_FIN: nothing exists past it), the receive window we advertise in wnd_size, and when an ACK
 * is owed. The connection (./connection.ts) sends the ST_STATE; the sending half is ./sender.ts.
 */
import type { ConnectionHost } from './connection-options';
import { type Packet, ST_DATA, ST_FIN } from './header';
import { ReceiveBuffer } from './receive-buffer';
import { seqLess } from './seq';

const EMPTY = new Uint8Array(0);

export class Receiver {
  /** ack_nr and the packets past a gap; undefined until the handshake gave the peer's seq_nr. */
  buffer: ReceiveBuffer | undefined;
  #eofPkt: number | undefined;
  /** The peer's ST_FIN was seen and all data before it delivered. */
  eofDelivered = false;
  /** Bytes delivered that the reader has not consumed yet. */
  #unread = 0;
  #lastAdvertised = 0;
  #unackedData = 0;
  /** An ACK is owed and may wait for the connection's `flushAck`. */
  ackPending = false;

  constructor(
    readonly host: Pick<ConnectionHost, 'onData' | 'onEnd'>,
    /** Sends ST_STATE now (the connection's). */
    readonly sendAck: () => void,
    readonly recvBufferBytes: number,
    readonly ackEvery: number,
    readonly reorderPackets: number,
  ) {}

  /** The handshake is done: the next packet expected follows `ackNr`. */
  open(ackNr: number): void {
    this.buffer = new ReceiveBuffer(ackNr, this.#deliver, this.reorderPackets);
  }

  /** `ack_nr`: the last packet received in order (0 before the handshake). */
  get ackNr(): number {
    return this.buffer?.ackNr ?? 0;
  }

  /** The receive window: what is free of the receive buffer. */
  window(): number {
    const recv = this.buffer;
    return Math.max(0, this.recvBufferBytes - this.#unread - (recv?.waitingBytes ?? 0));
  }

  /** The window, for a packet's wnd_size (remembered to know when an update is due). */
  advertise(): number {
    const window = this.window();
    this.#lastAdvertised = window;
    return window;
  }

  /** The reader took `bytes`; true when the window opened enough to send a window update. */
  consumed(bytes: number): boolean {
    this.#unread = Math.max(0, this.#unread - bytes);
    return (
      this.#lastAdvertised < this.recvBufferBytes / 4 && this.window() >= this.recvBufferBytes / 2
    );
  }

  /** An ST_STATE went out: no ACK is owed. */
  acked(): void {
    this.ackPending = false;
    this.#unackedData = 0;
  }

  /** A packet of ours carrying ack_nr went out: a pending plain ACK is no longer owed. */
  dataSent(): void {
    if (this.buffer !== undefined && this.buffer.waitingPackets === 0) this.acked();
  }

  /** ST_DATA or ST_FIN from the peer. */
  receiveData(pkt: Packet): void {
    const recv = this.buffer;
    if (recv === undefined) return;
    if (pkt.type === ST_FIN && this.#eofPkt === undefined) this.#eofPkt = pkt.seqNr;
    const eof = this.#eofPkt;
    if (eof !== undefined && seqLess(eof, pkt.seqNr)) return; // nothing exists past eof_pkt
    const result = recv.insert(pkt.seqNr, pkt.type === ST_FIN ? EMPTY : pkt.payload);
    if (result === 'delivered' && recv.waitingPackets === 0 && pkt.type === ST_DATA) {
      this.ackPending = true;
      if (++this.#unackedData >= this.ackEvery) this.sendAck();
    } else {
      // Out of order, duplicate, or the FIN: acknowledge now (with the selective ACK).
      this.sendAck();
    }
  }

  readonly #deliver = (payload: Uint8Array, seq: number): void => {
    if (seq === this.#eofPkt) {
      this.eofDelivered = true;
      this.host.onEnd();
      return;
    }
    if (this.eofDelivered || payload.length === 0) return;
    this.#unread += payload.length;
    this.host.onData(payload);
  };
}
