import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PiecePicker } from '../src/picker';
import { BLOCK_LENGTH } from '../src/wire/messages';
import { pieceSet, seededRandom } from './helpers';

interface Geometry {
  pieceCount: number;
  pieceLength: number;
  totalLength: number;
}

/** The reference model: plain sets and maps, no cleverness. */
class Model {
  peers = new Map<number, boolean[]>();
  requested = new Map<string, Set<number>>();
  received = new Set<string>();
  verified = new Set<number>();
  constructor(readonly g: Geometry) {}
  blocks(piece: number): number {
    const size =
      piece === this.g.pieceCount - 1
        ? this.g.totalLength - (this.g.pieceCount - 1) * this.g.pieceLength
        : this.g.pieceLength;
    return Math.ceil(size / BLOCK_LENGTH);
  }
  availability(piece: number): number {
    let n = 0;
    for (const bits of this.peers.values()) if (bits[piece]) n++;
    return n;
  }
  started(piece: number): boolean {
    for (let b = 0; b < this.blocks(piece); b++) {
      const k = `${piece}:${b}`;
      if (this.received.has(k) || (this.requested.get(k)?.size ?? 0) > 0) return true;
    }
    return false;
  }
  free(piece: number, b: number): boolean {
    const k = `${piece}:${b}`;
    return !this.received.has(k) && (this.requested.get(k)?.size ?? 0) === 0;
  }
  hasFree(piece: number): boolean {
    for (let b = 0; b < this.blocks(piece); b++) if (this.free(piece, b)) return true;
    return false;
  }
  anyFreeAnywhere(): boolean {
    for (let p = 0; p < this.g.pieceCount; p++)
      if (!this.verified.has(p) && this.hasFree(p)) return true;
    return false;
  }
  outstanding(): Array<{ peer: number; piece: number; block: number }> {
    const out: Array<{ peer: number; piece: number; block: number }> = [];
    for (const [k, set] of [...this.requested].sort()) {
      const [piece, block] = k.split(':').map(Number) as [number, number];
      for (const peer of [...set].sort()) out.push({ peer, piece, block });
    }
    return out;
  }
  dropPiece(piece: number): void {
    for (let b = 0; b < this.blocks(piece); b++) {
      this.requested.delete(`${piece}:${b}`);
      this.received.delete(`${piece}:${b}`);
    }
  }
}

type Real = { picker: PiecePicker; randomFirst: number };
type Cmd = fc.Command<Model, Real>;

class AddPeer implements Cmd {
  constructor(
    readonly id: number,
    readonly bits: boolean[],
  ) {}
  check(m: Readonly<Model>) {
    return !m.peers.has(this.id);
  }
  run(m: Model, r: Real) {
    const bits = this.bits.slice(0, m.g.pieceCount);
    m.peers.set(this.id, bits);
    r.picker.addAvailability(pieceSet(bits));
    for (let p = 0; p < m.g.pieceCount; p++)
      expect(r.picker.availabilityOf(p)).toBe(m.availability(p));
  }
  toString() {
    return `AddPeer(${this.id})`;
  }
}

class RemovePeer implements Cmd {
  constructor(readonly id: number) {}
  check(m: Readonly<Model>) {
    return m.peers.has(this.id);
  }
  run(m: Model, r: Real) {
    r.picker.removeAvailability(pieceSet(m.peers.get(this.id)!));
    r.picker.abortAll(this.id);
    m.peers.delete(this.id);
    for (const set of m.requested.values()) set.delete(this.id);
    for (let p = 0; p < m.g.pieceCount; p++)
      expect(r.picker.availabilityOf(p)).toBe(m.availability(p));
    expect(r.picker.outstanding(this.id)).toBe(0);
  }
  toString() {
    return `RemovePeer(${this.id})`;
  }
}

class Have implements Cmd {
  constructor(
    readonly id: number,
    readonly piece: number,
  ) {}
  check(m: Readonly<Model>) {
    const bits = m.peers.get(this.id);
    return bits !== undefined && this.piece < m.g.pieceCount && !bits[this.piece];
  }
  run(m: Model, r: Real) {
    m.peers.get(this.id)![this.piece] = true;
    r.picker.incrementAvailability(this.piece);
    expect(r.picker.availabilityOf(this.piece)).toBe(m.availability(this.piece));
  }
  toString() {
    return `Have(${this.id}, ${this.piece})`;
  }
}

class Pick implements Cmd {
  constructor(
    readonly id: number,
    readonly max: number,
  ) {}
  check(m: Readonly<Model>) {
    return m.peers.has(this.id);
  }
  run(m: Model, r: Real) {
    const bits = m.peers.get(this.id)!;
    const eligible = (p: number) => bits[p] === true && !m.verified.has(p);
    const endgameBefore = !m.anyFreeAnywhere();
    const partialWithFree = [...Array(m.g.pieceCount).keys()].some(
      (p) => eligible(p) && m.started(p) && m.hasFree(p),
    );
    const freshAvail = [...Array(m.g.pieceCount).keys()]
      .filter((p) => eligible(p) && !m.started(p))
      .map((p) => m.availability(p));
    const startedBefore = new Set([...Array(m.g.pieceCount).keys()].filter((p) => m.started(p)));
    const picked = r.picker.pick(this.id, pieceSet(bits), this.max);

    expect(picked.length).toBeLessThanOrEqual(this.max);
    const seen = new Set<string>();
    let firstNew = true;
    for (const [i, q] of picked.entries()) {
      const block = q.offset / BLOCK_LENGTH;
      const k = `${q.piece}:${block}`;
      expect(eligible(q.piece)).toBe(true);
      expect(m.received.has(k)).toBe(false);
      // Never re-pick a block this peer already requested; no duplicates in one pick.
      expect(m.requested.get(k)?.has(this.id) ?? false).toBe(false);
      expect(seen.has(k)).toBe(false);
      seen.add(k);
      // Outside end-game a requested block is never picked again.
      if (!endgameBefore && (m.requested.get(k)?.size ?? 0) > 0) {
        expect(m.anyFreeAnywhere()).toBe(false);
      }
      // Partial pieces first.
      if (i === 0 && partialWithFree) expect(startedBefore.has(q.piece)).toBe(true);
      // Rarest first once the random first pieces are done.
      if (!startedBefore.has(q.piece) && firstNew) {
        firstNew = false;
        if (r.picker.haveCount + startedBefore.size >= r.randomFirst && freshAvail.length > 0) {
          expect(m.availability(q.piece)).toBe(Math.min(...freshAvail));
        }
      }
      const expectedLength = Math.min(
        BLOCK_LENGTH,
        (q.piece === m.g.pieceCount - 1
          ? m.g.totalLength - (m.g.pieceCount - 1) * m.g.pieceLength
          : m.g.pieceLength) - q.offset,
      );
      expect(q.length).toBe(expectedLength);
      const set = m.requested.get(k) ?? new Set<number>();
      m.requested.set(k, set);
      set.add(this.id);
      startedBefore.add(q.piece);
    }
    // Never starve: a short pick means no free block is left that this peer could serve.
    if (picked.length < this.max) {
      for (let p = 0; p < m.g.pieceCount; p++) if (eligible(p)) expect(m.hasFree(p)).toBe(false);
    }
    expect(r.picker.outstanding(this.id)).toBe(
      [...m.requested.values()].filter((s) => s.has(this.id)).length,
    );
  }
  toString() {
    return `Pick(${this.id}, ${this.max})`;
  }
}

class Receive implements Cmd {
  constructor(readonly choice: number) {}
  check(m: Readonly<Model>) {
    return m.outstanding().length > 0;
  }
  run(m: Model, r: Real) {
    const all = m.outstanding();
    const o = all[this.choice % all.length]!;
    const k = `${o.piece}:${o.block}`;
    const result = r.picker.received(o.peer, o.piece, o.block * BLOCK_LENGTH);
    expect(result.accepted).toBe(true);
    const others = [...m.requested.get(k)!].filter((p) => p !== o.peer).sort();
    expect([...result.cancel].sort()).toEqual(others);
    m.requested.delete(k);
    m.received.add(k);
    let complete = true;
    for (let b = 0; b < m.blocks(o.piece); b++)
      if (!m.received.has(`${o.piece}:${b}`)) complete = false;
    expect(result.pieceComplete).toBe(complete);
    // A second copy of the same block is not accepted.
    expect(r.picker.received(o.peer, o.piece, o.block * BLOCK_LENGTH).accepted).toBe(false);
  }
  toString() {
    return `Receive(${this.choice})`;
  }
}

class Abort implements Cmd {
  constructor(readonly choice: number) {}
  check(m: Readonly<Model>) {
    return m.outstanding().length > 0;
  }
  run(m: Model, r: Real) {
    const all = m.outstanding();
    const o = all[this.choice % all.length]!;
    r.picker.abort(o.peer, o.piece, o.block * BLOCK_LENGTH);
    const set = m.requested.get(`${o.piece}:${o.block}`)!;
    set.delete(o.peer);
    if (set.size === 0) m.requested.delete(`${o.piece}:${o.block}`);
    expect(r.picker.isRequestedFrom(o.peer, o.piece, o.block * BLOCK_LENGTH)).toBe(false);
  }
  toString() {
    return `Abort(${this.choice})`;
  }
}

class Unsolicited implements Cmd {
  constructor(
    readonly id: number,
    readonly piece: number,
    readonly block: number,
  ) {}
  check(m: Readonly<Model>) {
    if (this.piece >= m.g.pieceCount || this.block >= m.blocks(this.piece)) return false;
    return !(m.requested.get(`${this.piece}:${this.block}`)?.has(this.id) ?? false);
  }
  run(_m: Model, r: Real) {
    expect(r.picker.received(this.id, this.piece, this.block * BLOCK_LENGTH).accepted).toBe(false);
  }
  toString() {
    return `Unsolicited(${this.id}, ${this.piece}, ${this.block})`;
  }
}

class Verify implements Cmd {
  constructor(
    readonly choice: number,
    readonly ok: boolean,
  ) {}
  complete(m: Readonly<Model>): number[] {
    const out: number[] = [];
    for (let p = 0; p < m.g.pieceCount; p++) {
      if (m.verified.has(p)) continue;
      let all = true;
      for (let b = 0; b < m.blocks(p); b++) if (!m.received.has(`${p}:${b}`)) all = false;
      if (all) out.push(p);
    }
    return out;
  }
  check(m: Readonly<Model>) {
    return this.complete(m).length > 0;
  }
  run(m: Model, r: Real) {
    const list = this.complete(m);
    const piece = list[this.choice % list.length]!;
    m.dropPiece(piece);
    if (this.ok) {
      r.picker.setHave(piece);
      m.verified.add(piece);
    } else {
      r.picker.pieceFailed(piece);
    }
    expect(r.picker.has(piece)).toBe(this.ok);
    expect(r.picker.haveCount).toBe(m.verified.size);
    expect(r.picker.isComplete).toBe(m.verified.size === m.g.pieceCount);
  }
  toString() {
    return `Verify(${this.choice}, ${this.ok})`;
  }
}

const geometry = fc
  .record({
    pieceCount: fc.integer({ min: 1, max: 8 }),
    blocks: fc.integer({ min: 1, max: 4 }),
    lastBytes: fc.integer({ min: 1, max: 4 * BLOCK_LENGTH }),
  })
  .map(({ pieceCount, blocks, lastBytes }) => {
    const pieceLength = blocks * BLOCK_LENGTH;
    const last = Math.min(lastBytes, pieceLength);
    return { pieceCount, pieceLength, totalLength: (pieceCount - 1) * pieceLength + last };
  });

const peerId = fc.integer({ min: 0, max: 4 });
const commands = fc.commands(
  [
    fc
      .tuple(peerId, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }))
      .map(([id, bits]) => new AddPeer(id, bits)),
    peerId.map((id) => new RemovePeer(id)),
    fc.tuple(peerId, fc.nat(7)).map(([id, p]) => new Have(id, p)),
    fc.tuple(peerId, fc.integer({ min: 1, max: 6 })).map(([id, max]) => new Pick(id, max)),
    fc.tuple(peerId, fc.integer({ min: 1, max: 6 })).map(([id, max]) => new Pick(id, max)),
    fc.nat().map((c) => new Receive(c)),
    fc.nat().map((c) => new Receive(c)),
    fc.nat().map((c) => new Abort(c)),
    fc.tuple(peerId, fc.nat(7), fc.nat(3)).map(([id, p, b]) => new Unsolicited(id, p, b)),
    fc.tuple(fc.nat(), fc.boolean()).map(([c, ok]) => new Verify(c, ok)),
  ],
  { maxCommands: 60 },
);

describe('PiecePicker', () => {
  it('matches the reference model (partial first, rarest first, end-game, never re-pick)', () => {
    fc.assert(
      fc.property(
        geometry,
        fc.integer(),
        fc.integer({ min: 0, max: 3 }),
        commands,
        (g, seed, randomFirst, cmds) => {
          const picker = new PiecePicker({
            ...g,
            random: seededRandom(seed),
            randomFirstPieces: randomFirst,
          });
          fc.modelRun(() => ({ model: new Model(g), real: { picker, randomFirst } }), cmds);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('breaks availability ties at random, reproducibly from the seed', () => {
    const firsts = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const picker = new PiecePicker({
        pieceCount: 16,
        pieceLength: BLOCK_LENGTH,
        totalLength: 16 * BLOCK_LENGTH,
        random: seededRandom(seed),
        randomFirstPieces: 0,
      });
      const all = pieceSet(Array(16).fill(true));
      picker.addAvailability(all);
      const a = picker.pick(1, all, 1)[0]!.piece;
      const again = new PiecePicker({
        pieceCount: 16,
        pieceLength: BLOCK_LENGTH,
        totalLength: 16 * BLOCK_LENGTH,
        random: seededRandom(seed),
        randomFirstPieces: 0,
      });
      again.addAvailability(all);
      expect(again.pick(1, all, 1)[0]!.piece).toBe(a);
      firsts.add(a);
    }
    expect(firsts.size).toBeGreaterThan(5);
  });

  it('sequential mode picks the lowest missing piece', () => {
    const picker = new PiecePicker({
      pieceCount: 6,
      pieceLength: 2 * BLOCK_LENGTH,
      totalLength: 11 * BLOCK_LENGTH + 5,
      random: seededRandom(3),
      sequential: true,
    });
    const all = pieceSet(Array(6).fill(true));
    picker.addAvailability(all);
    const picked = picker.pick(1, all, 12).map((r) => `${r.piece}/${r.offset}/${r.length}`);
    expect(picked).toEqual([
      '0/0/16384',
      '0/16384/16384',
      '1/0/16384',
      '1/16384/16384',
      '2/0/16384',
      '2/16384/16384',
      '3/0/16384',
      '3/16384/16384',
      '4/0/16384',
      '4/16384/16384',
      '5/0/16384',
      '5/16384/5',
    ]);
  });

  it('end-game duplicates a block to a second peer and cancels the other copy', () => {
    const picker = new PiecePicker({
      pieceCount: 1,
      pieceLength: BLOCK_LENGTH,
      totalLength: BLOCK_LENGTH,
      random: seededRandom(1),
    });
    const all = pieceSet([true]);
    expect(picker.pick(1, all, 4)).toHaveLength(1);
    expect(picker.inEndgame).toBe(true);
    expect(picker.pick(1, all, 4)).toHaveLength(0);
    expect(picker.pick(2, all, 4)).toEqual([{ piece: 0, offset: 0, length: BLOCK_LENGTH }]);
    const r = picker.received(2, 0, 0);
    expect(r).toEqual({ accepted: true, pieceComplete: true, cancel: [1] });
    expect(picker.outstanding(1)).toBe(0);
  });

  it('allowed-fast restricts the pick to the allowed set', () => {
    const picker = new PiecePicker({
      pieceCount: 8,
      pieceLength: BLOCK_LENGTH,
      totalLength: 8 * BLOCK_LENGTH,
      random: seededRandom(9),
    });
    const all = pieceSet(Array(8).fill(true));
    const picked = picker.pick(1, all, 8, new Set([3, 5]));
    expect(picked.map((r) => r.piece).sort()).toEqual([3, 5]);
  });
});
