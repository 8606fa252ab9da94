/**
 * Model-based test of the send and receive buffers together, through a channel that loses,
 * reorders and duplicates: packets go from a `SendBuffer` to a `ReceiveBuffer`, acks (ack_nr
 * plus the selective ACK) come back. The model is a set of sequence numbers and a list. Sequence
 * numbers start near 2^16 so every run wraps around.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildSelectiveAck,
  forEachSelectiveAck,
  ReceiveBuffer,
  SendBuffer,
  seqAdd,
  seqDistance,
} from '../src/index';

interface Sent {
  readonly seqNr: number;
  readonly payload: Uint8Array;
}

class Real {
  readonly send: SendBuffer<Sent>;
  readonly recv: ReceiveBuffer;
  readonly delivered: number[] = [];
  constructor(first: number) {
    this.send = new SendBuffer<Sent>(first, 4);
    this.recv = new ReceiveBuffer(
      seqAdd(first, -1),
      (payload, seq) => {
        // Every payload names its own sequence number: order is checked on delivery.
        expect(((payload[0] as number) << 8) | (payload[1] as number)).toBe(seq);
        this.delivered.push(seq);
      },
      64,
    );
  }
}

class Model {
  next: number;
  /** Sent and not acknowledged, in order. */
  unacked: number[] = [];
  received = new Set<number>();
  delivered: number[] = [];
  ackNr: number;
  constructor(first: number) {
    this.next = first;
    this.ackNr = seqAdd(first, -1);
  }
}

type Cmd = fc.Command<Model, Real>;

class SendCommand implements Cmd {
  check(m: Readonly<Model>): boolean {
    // The sender keeps within the receiver's reorder capacity (its window).
    return seqDistance(m.next, seqAdd(m.ackNr, 1)) < 60;
  }
  run(m: Model, r: Real): void {
    const seq = m.next;
    r.send.push({ seqNr: seq, payload: Uint8Array.from([seq >> 8, seq & 0xff]) });
    m.unacked.push(seq);
    m.next = seqAdd(seq, 1);
    expect(r.send.nextSeq).toBe(m.next);
    expect(r.send.size).toBe(m.unacked.length);
  }
  toString(): string {
    return 'send';
  }
}

class DeliverCommand implements Cmd {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.unacked.length > 0;
  }
  run(m: Model, r: Real): void {
    const seq = m.unacked[this.pick % m.unacked.length] as number;
    const packet = r.send.get(seq);
    expect(packet?.seqNr).toBe(seq);
    const result = r.recv.insert(seq, (packet as Sent).payload);
    const before = m.received.has(seq) || seqDistance(seq, m.ackNr) >= 0x8000;
    expect(result === 'duplicate').toBe(before || seq === m.ackNr);
    if (!before && seq !== m.ackNr) m.received.add(seq);
    while (m.received.has(seqAdd(m.ackNr, 1))) {
      m.ackNr = seqAdd(m.ackNr, 1);
      m.received.delete(m.ackNr);
      m.delivered.push(m.ackNr);
    }
    expect(r.recv.ackNr).toBe(m.ackNr);
    expect(r.delivered).toEqual(m.delivered);
    expect(r.recv.waitingPackets).toBe(m.received.size);
  }
  toString(): string {
    return `deliver(${this.pick})`;
  }
}

class AckCommand implements Cmd {
  constructor(readonly withSack: boolean) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const ackNr = r.recv.ackNr;
    const acked: number[] = [];
    r.send.ackThrough(ackNr, (p) => acked.push(p.seqNr));
    const sack = this.withSack ? buildSelectiveAck(r.recv) : undefined;
    if (sack !== undefined) {
      forEachSelectiveAck(ackNr, sack, (seq) => {
        const p = r.send.ackOne(seq);
        if (p !== undefined) acked.push(p.seqNr);
      });
    }
    // Model: everything up to ack_nr, and (with the SACK) everything the receiver holds.
    const expected = m.unacked.filter(
      (seq) => seqDistance(ackNr, seq) < 0x8000 || (sack !== undefined && m.received.has(seq)),
    );
    expect(acked.sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    m.unacked = m.unacked.filter((seq) => !expected.includes(seq));
    expect(r.send.size).toBe(m.unacked.length);
    const oldest = m.unacked[0] ?? m.next;
    // The oldest slot is the oldest unacked packet (holes at the front are released).
    if (m.unacked.length > 0) expect(r.send.oldestSeq).toBe(oldest);
    for (const seq of m.unacked) expect(r.send.get(seq)?.seqNr).toBe(seq);
  }
  toString(): string {
    return `ack(sack=${this.withSack})`;
  }
}

describe('send and receive buffers against a model (wrap-around, selective acks, resends)', () => {
  it('agree with the model under loss, reordering and duplication', () => {
    const commands = [
      fc.constant(new SendCommand()),
      fc.nat(1000).map((pick) => new DeliverCommand(pick)),
      fc.boolean().map((withSack) => new AckCommand(withSack)),
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0xffff - 40, max: 0xffff }),
        fc.commands(commands, { maxCommands: 300 }),
        (first, cmds) => {
          fc.modelRun(() => ({ model: new Model(first), real: new Real(first) }), cmds);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a selective ACK names exactly the packets held past the gap (bit 0 = ack_nr + 2)', () => {
    const got: number[] = [];
    const recv = new ReceiveBuffer(0xfffe, () => {}, 64);
    for (const seq of [0, 3, 40]) recv.insert(seq, new Uint8Array(1));
    const sack = buildSelectiveAck(recv) as Uint8Array;
    expect(sack.length % 4).toBe(0);
    expect(sack[0]).toBe(0b1001); // 0xffff + 2 = 1 ... seq 0 is distance 2: bit 0; seq 3: bit 3
    forEachSelectiveAck(recv.ackNr, sack, (seq) => got.push(seq));
    expect(got).toEqual([0, 3, 40]);
  });
});
