/**
 * The send buffer: every packet sent but not yet acknowledged, indexed by its 16-bit `seq_nr`
 * (BEP 29: "The oldest unacked packet is seq_nr - cur_window"; here in packets, not bytes).
 *
 * A ring of slots from `oldestSeq` to `nextSeq - 1`. A packet leaves the ring when it is
 * acknowledged cumulatively (`ack_nr` covers it) or selectively (a selective ACK bit; its slot
 * is then empty until the cumulative ACK passes it). Sequence numbers wrap at 2^16.
 */
import { SEQ_MASK, seqAdd, seqDistance } from './seq';

/** What the buffer needs to know of a packet. */
export interface BufferedPacket {
  readonly seqNr: number;
}

/** The most packets a ring may hold: half the sequence space keeps comparisons unambiguous. */
export const MAX_SEND_PACKETS = 0x4000;

export class SendBuffer<P extends BufferedPacket> {
  #slots: (P | undefined)[];
  #mask: number;
  #oldest: number;
  /** Slots from the oldest to the newest (acked holes included). */
  #span = 0;
  /** Packets still held (span minus the selectively acked holes). */
  #count = 0;

  constructor(firstSeq: number, initialCapacity = 64) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.#slots = new Array<P | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    this.#oldest = firstSeq & SEQ_MASK;
  }

  /** `seq_nr` of the oldest slot (the next packet the cumulative ACK must cover). */
  get oldestSeq(): number {
    return this.#oldest;
  }

  /** `seq_nr` the next pushed packet must carry. */
  get nextSeq(): number {
    return seqAdd(this.#oldest, this.#span);
  }

  /** Packets held (sent and not acknowledged). */
  get size(): number {
    return this.#count;
  }

  /** Slots between the oldest and the newest, acknowledged holes included. */
  get span(): number {
    return this.#span;
  }

  /** Whether `seq` lies in [oldestSeq, nextSeq). */
  inRange(seq: number): boolean {
    return seqDistance(seq, this.#oldest) < this.#span;
  }

  /** Appends the packet with `seq_nr === nextSeq`. */
  push(packet: P): void {
    if (packet.seqNr !== this.nextSeq) {
      throw new RangeError(`pushed seq_nr ${packet.seqNr}, expected ${this.nextSeq}`);
    }
    if (this.#span >= MAX_SEND_PACKETS) throw new RangeError('send buffer full');
    if (this.#span === this.#slots.length) this.#grow();
    this.#slots[(this.#oldest + this.#span) & this.#mask] = packet;
    this.#span++;
    this.#count++;
  }

  /** The packet with `seq`, when still held. */
  get(seq: number): P | undefined {
    if (!this.inRange(seq)) return undefined;
    return this.#slots[seq & this.#mask];
  }

  /** The packet at position `i` (0 = oldest) of the span, when still held. */
  at(i: number): P | undefined {
    if (i < 0 || i >= this.#span) return undefined;
    return this.#slots[(this.#oldest + i) & this.#mask];
  }

  /**
   * Cumulative ACK: removes every packet up to and including `ackNr`, calling `onAcked` for
   * each one still held (oldest first). An `ackNr` outside [oldestSeq - 1, nextSeq - 1] acks
   * nothing and returns -1; otherwise returns how many slots were released.
   */
  ackThrough(ackNr: number, onAcked?: (packet: P) => void): number {
    const n = seqDistance(seqAdd(ackNr, 1), this.#oldest);
    if (n > this.#span) return -1;
    for (let i = 0; i < n; i++) {
      const index = (this.#oldest + i) & this.#mask;
      const packet = this.#slots[index];
      if (packet !== undefined) {
        this.#slots[index] = undefined;
        this.#count--;
        onAcked?.(packet);
      }
    }
    this.#oldest = seqAdd(this.#oldest, n);
    this.#span -= n;
    return n;
  }

  /** Selective ACK of one packet: removes it when held; returns it (or `undefined`). */
  ackOne(seq: number): P | undefined {
    if (!this.inRange(seq)) return undefined;
    const index = seq & this.#mask;
    const packet = this.#slots[index];
    if (packet === undefined) return undefined;
    this.#slots[index] = undefined;
    this.#count--;
    // Holes at the front need no cumulative ACK to be released.
    this.#trimFront();
    return packet;
  }

  #trimFront(): void {
    while (this.#span > 0 && this.#slots[this.#oldest & this.#mask] === undefined) {
      this.#oldest = seqAdd(this.#oldest, 1);
      this.#span--;
    }
  }

  /** Calls `fn` for every held packet, oldest first. */
  forEach(fn: (packet: P) => void): void {
    for (let i = 0; i < this.#span; i++) {
      const packet = this.#slots[(this.#oldest + i) & this.#mask];
      if (packet !== undefined) fn(packet);
    }
  }

  /** Removes everything. */
  clear(): void {
    this.#slots.fill(undefined);
    this.#oldest = this.nextSeq;
    this.#span = 0;
    this.#count = 0;
  }

  #grow(): void {
    const old = this.#slots;
    const capacity = old.length * 2;
    const slots = new Array<P | undefined>(capacity).fill(undefined);
    for (let i = 0; i < this.#span; i++) {
      const seq = (this.#oldest + i) & SEQ_MASK;
      slots[seq & (capacity - 1)] = old[seq & this.#mask];
    }
    this.#slots = slots;
    this.#mask = capacity - 1;
  }
}
