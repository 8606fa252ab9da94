/**
 * The receive buffer: puts packets back in `seq_nr` order and keeps `ack_nr`, the last packet
 * received in order (BEP 29, "ack_nr"). Packets that arrive early wait in a ring until the
 * gap before them fills; the selective ACK (sack.ts) reports them to the sender.
 *
 * Bounded: only packets within `capacity` sequence numbers past `ack_nr` are kept, so a peer
 * cannot make it hold more than `capacity` packets.
 */
import { SEQ_MASK, seqAdd, seqDistance } from './seq';

export type InsertResult =
  /** Delivered in order (perhaps with buffered packets after it). */
  | 'delivered'
  /** Kept until the gap before it fills. */
  | 'buffered'
  /** Already received (a retransmission or a duplicate). */
  | 'duplicate'
  /** Too far ahead of `ack_nr` to keep. */
  | 'out-of-window';

const EMPTY = new Uint8Array(0);

export class ReceiveBuffer {
  readonly capacity: number;
  #slots: (Uint8Array | undefined)[];
  readonly #mask: number;
  #ackNr: number;
  /** Packets waiting (received past a gap). */
  #waiting = 0;
  #waitingBytes = 0;
  /** Distance past ack_nr of the furthest waiting packet (0 when none). */
  #furthest = 0;
  readonly #deliver: (payload: Uint8Array, seq: number) => void;

  /**
   * `ackNr`: the sequence number before the first expected packet. `deliver` receives every
   * payload in order, synchronously from `insert`.
   */
  constructor(ackNr: number, deliver: (payload: Uint8Array, seq: number) => void, capacity = 1024) {
    let size = 16;
    while (size < capacity) size *= 2;
    if (size > 0x8000) throw new RangeError('capacity must be at most 32768');
    this.capacity = size - 1;
    this.#slots = new Array<Uint8Array | undefined>(size).fill(undefined);
    this.#mask = size - 1;
    this.#ackNr = ackNr & SEQ_MASK;
    this.#deliver = deliver;
  }

  /** The last sequence number received in order. */
  get ackNr(): number {
    return this.#ackNr;
  }

  /** Packets held past a gap. */
  get waitingPackets(): number {
    return this.#waiting;
  }

  /** Payload bytes held past a gap. */
  get waitingBytes(): number {
    return this.#waitingBytes;
  }

  /** Distance from ack_nr of the furthest packet held (0 when none). */
  get furthest(): number {
    return this.#furthest;
  }

  /** Whether packet `ackNr + distance` is held (1 <= distance <= capacity). */
  has(distance: number): boolean {
    if (distance < 1 || distance > this.#furthest) return false;
    return this.#slots[(this.#ackNr + distance) & this.#mask] !== undefined;
  }

  /** Accepts the packet `seq` with `payload` (possibly empty, e.g. ST_FIN). */
  insert(seq: number, payload: Uint8Array): InsertResult {
    const distance = seqDistance(seq, this.#ackNr);
    // Behind ack_nr (distance 0 or "negative", i.e. >= 2^15): already delivered.
    if (distance === 0 || distance >= 0x8000) return 'duplicate';
    if (distance > this.capacity) return 'out-of-window';
    if (distance > 1) {
      const index = seq & this.#mask;
      if (this.#slots[index] !== undefined) return 'duplicate';
      this.#slots[index] = payload.length === 0 ? EMPTY : payload;
      this.#waiting++;
      this.#waitingBytes += payload.length;
      if (distance > this.#furthest) this.#furthest = distance;
      return 'buffered';
    }
    this.#advance(payload);
    // Drain what waited behind it.
    while (this.#waiting > 0) {
      const index = seqAdd(this.#ackNr, 1) & this.#mask;
      const next = this.#slots[index];
      if (next === undefined) break;
      this.#slots[index] = undefined;
      this.#waiting--;
      this.#waitingBytes -= next.length;
      this.#advance(next);
    }
    return 'delivered';
  }

  #advance(payload: Uint8Array): void {
    this.#ackNr = seqAdd(this.#ackNr, 1);
    this.#furthest = this.#waiting === 0 ? 0 : Math.max(0, this.#furthest - 1);
    this.#deliver(payload, this.#ackNr);
  }
}
