/**
 * Model-based test (fc.commands) of the picker's priorities and deadlines (file selection and
 * streaming): against a model of verified pieces, priorities, deadlines and outstanding
 * requests, every pick
 * - never takes a piece of priority 0 without a deadline, a verified piece, or one the peer lacks;
 * - takes the eligible piece with the earliest deadline first, and asks a second peer for the
 *   blocks of that one (the read head) when they are all out already;
 * - takes deadline pieces, then high-priority pieces, then normal ones, and no normal piece
 *   while an eligible high-priority piece is left unstarted;
 * - leaves nothing eligible unpicked when it returns fewer blocks than asked;
 * and `wantedComplete`, `wantedMissingCount` and `isInteresting` agree with the model.
 * One block per piece, so that a piece is started exactly when its block is picked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PiecePicker } from '../src/picker';
import { PieceBuckets } from '../src/piece-buckets';
import { BLOCK_LENGTH } from '../src/wire/messages';
import { pieceSet, seededRandom } from './helpers';

const PIECES = 12;
const PEERS = 3;

interface Model {
  priority: number[];
  deadline: Map<number, number>;
  verified: Set<number>;
  /** Outstanding requests: piece -> peers. */
  requested: Map<number, Set<number>>;
  /** Each peer's pieces. */
  has: boolean[][];
}

interface Real {
  picker: PiecePicker;
}

const wants = (m: Model, p: number) =>
  !m.verified.has(p) && (m.priority[p]! > 0 || m.deadline.has(p));

class SetPriority implements fc.Command<Model, Real> {
  constructor(
    readonly piece: number,
    readonly level: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.picker.setPriority(this.piece, this.level);
    m.priority[this.piece] = this.level;
    checkCounts(m, r);
  }
  toString(): string {
    return `SetPriority(${this.piece}, ${this.level})`;
  }
}

class SetDeadline implements fc.Command<Model, Real> {
  constructor(
    readonly piece: number,
    readonly at: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.picker.setDeadline(this.piece, this.at);
    if (!m.verified.has(this.piece)) m.deadline.set(this.piece, this.at);
  }
  toString(): string {
    return `SetDeadline(${this.piece}, ${this.at})`;
  }
}

class ClearDeadline implements fc.Command<Model, Real> {
  constructor(readonly piece: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.picker.clearDeadline(this.piece);
    m.deadline.delete(this.piece);
  }
  toString(): string {
    return `ClearDeadline(${this.piece})`;
  }
}

class Pick implements fc.Command<Model, Real> {
  constructor(
    readonly peer: number,
    readonly max: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const has = m.has[this.peer]!;
    const free = (p: number) => wants(m, p) && has[p] === true && !m.requested.has(p);
    const picks = r.picker.pick(this.peer, pieceSet(has), this.max);
    expect(picks.length).toBeLessThanOrEqual(this.max);
    const rank = (p: number) =>
      m.deadline.has(p) ? 0 : m.priority[p] === 2 ? 1 : m.priority[p] === 1 ? 2 : 3;
    let lastRank = 0;
    for (const [k, pick] of picks.entries()) {
      const p = pick.piece;
      expect(wants(m, p)).toBe(true);
      expect(has[p]).toBe(true);
      const others = m.requested.get(p);
      if (others === undefined) {
        // A new piece: the earliest deadline first, then high before normal.
        const candidates = [...Array(PIECES).keys()].filter(free);
        const best = Math.min(...candidates.map(rank));
        expect(rank(p)).toBe(best);
        if (rank(p) === 0) {
          const first = candidates
            .filter((c) => m.deadline.has(c))
            .sort((a, b) => m.deadline.get(a)! - m.deadline.get(b)! || a - b)[0];
          expect(p).toBe(first);
        }
        expect(rank(p)).toBeGreaterThanOrEqual(lastRank);
        lastRank = rank(p);
        m.requested.set(p, new Set([this.peer]));
      } else {
        // A duplicate of a block requested from other peers only (never twice from one peer, at
        // most 2 peers): in end-game, when nothing is free, or for the piece under the read head
        // (the earliest deadline among the pieces this peer has that we want).
        expect(others.has(this.peer)).toBe(false);
        expect(others.size).toBeLessThan(2);
        const head = [...Array(PIECES).keys()]
          .filter((c) => m.deadline.has(c) && wants(m, c) && has[c])
          .sort((a, b) => m.deadline.get(a)! - m.deadline.get(b)! || a - b)[0];
        if (p !== head) expect([...Array(PIECES).keys()].some(free)).toBe(false);
        others.add(this.peer);
      }
      void k;
    }
    if (picks.length < this.max) {
      expect([...Array(PIECES).keys()].filter(free)).toEqual([]);
    }
  }
  toString(): string {
    return `Pick(${this.peer}, ${this.max})`;
  }
}

class Receive implements fc.Command<Model, Real> {
  constructor(readonly choice: number) {}
  check(m: Readonly<Model>): boolean {
    return m.requested.size > 0;
  }
  run(m: Model, r: Real): void {
    const entries = [...m.requested].sort((a, b) => a[0] - b[0]);
    const [piece, peers] = entries[this.choice % entries.length]!;
    const peer = [...peers].sort()[0]!;
    const result = r.picker.received(peer, piece, 0);
    expect(result.accepted).toBe(true);
    expect(result.pieceComplete).toBe(true);
    expect([...result.cancel].sort()).toEqual([...peers].filter((x) => x !== peer).sort());
    r.picker.setHave(piece);
    m.requested.delete(piece);
    m.verified.add(piece);
    m.deadline.delete(piece);
    checkCounts(m, r);
  }
  toString(): string {
    return `Receive(${this.choice})`;
  }
}

class Abort implements fc.Command<Model, Real> {
  constructor(readonly choice: number) {}
  check(m: Readonly<Model>): boolean {
    return m.requested.size > 0;
  }
  run(m: Model, r: Real): void {
    const entries = [...m.requested].sort((a, b) => a[0] - b[0]);
    const [piece, peers] = entries[this.choice % entries.length]!;
    const peer = [...peers].sort()[0]!;
    r.picker.abort(peer, piece, 0);
    peers.delete(peer);
    if (peers.size === 0) m.requested.delete(piece);
  }
  toString(): string {
    return `Abort(${this.choice})`;
  }
}

function checkCounts(m: Model, r: Real): void {
  let missing = 0;
  for (let p = 0; p < PIECES; p++) if (!m.verified.has(p) && m.priority[p]! > 0) missing++;
  expect(r.picker.wantedMissingCount).toBe(missing);
  expect(r.picker.wantedComplete).toBe(missing === 0);
  for (let peer = 0; peer < PEERS; peer++) {
    const interesting = [...Array(PIECES).keys()].some((p) => wants(m, p) && m.has[peer]![p]);
    expect(r.picker.isInteresting(pieceSet(m.has[peer]!))).toBe(interesting);
  }
}

const piece = fc.nat(PIECES - 1);
const commands = fc.commands(
  [
    fc.tuple(piece, fc.nat(2)).map(([p, l]) => new SetPriority(p, l)),
    fc.tuple(piece, fc.nat(50)).map(([p, at]) => new SetDeadline(p, at)),
    piece.map((p) => new ClearDeadline(p)),
    fc.tuple(fc.nat(PEERS - 1), fc.integer({ min: 1, max: 5 })).map(([p, n]) => new Pick(p, n)),
    fc.tuple(fc.nat(PEERS - 1), fc.integer({ min: 1, max: 5 })).map(([p, n]) => new Pick(p, n)),
    fc.nat().map((c) => new Receive(c)),
    fc.nat().map((c) => new Abort(c)),
  ],
  { maxCommands: 80 },
);

describe('PiecePicker priorities and deadlines (model)', () => {
  it('picks deadlines, then high, then normal pieces, never a skipped one, as the model says', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.boolean(),
        fc.array(fc.array(fc.boolean(), { minLength: PIECES, maxLength: PIECES }), {
          minLength: PEERS,
          maxLength: PEERS,
        }),
        fc.array(fc.nat(2), { minLength: PIECES, maxLength: PIECES }),
        commands,
        (seed, sequential, has, priorities, cmds) => {
          const picker = new PiecePicker({
            pieceCount: PIECES,
            pieceLength: BLOCK_LENGTH,
            totalLength: PIECES * BLOCK_LENGTH,
            random: seededRandom(seed),
            sequential,
          });
          for (const bits of has) picker.addAvailability(pieceSet(bits));
          for (const [p, l] of priorities.entries()) picker.setPriority(p, l);
          const model: Model = {
            priority: [...priorities],
            deadline: new Map(),
            verified: new Set(),
            requested: new Map(),
            has,
          };
          fc.modelRun(() => ({ model, real: { picker } }), cmds);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('PieceBuckets with priorities (model)', () => {
  it('holds the inserted pieces of priority above 0, highest level first, then rarest', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('inc' as const), piece: fc.nat(15), level: fc.constant(0) }),
      fc.record({ kind: fc.constant('dec' as const), piece: fc.nat(15), level: fc.constant(0) }),
      fc.record({ kind: fc.constant('remove' as const), piece: fc.nat(15), level: fc.constant(0) }),
      fc.record({ kind: fc.constant('insert' as const), piece: fc.nat(15), level: fc.constant(0) }),
      fc.record({ kind: fc.constant('prio' as const), piece: fc.nat(15), level: fc.nat(2) }),
    );
    fc.assert(
      fc.property(fc.integer(), fc.array(op, { maxLength: 200 }), (seed, ops) => {
        const order = Uint32Array.from({ length: 16 }, (_, i) => i);
        const buckets = new PieceBuckets(order, seededRandom(seed));
        const availability = new Array<number>(16).fill(0);
        const level = new Array<number>(16).fill(1);
        const inserted = new Set(order); // not started, not verified
        for (const { kind, piece, level: l } of ops) {
          if (kind === 'inc') {
            buckets.increment(piece);
            availability[piece]!++;
          } else if (kind === 'dec') {
            buckets.decrement(piece);
            if (availability[piece]! > 0) availability[piece]!--;
          } else if (kind === 'remove') {
            buckets.remove(piece);
            inserted.delete(piece);
          } else if (kind === 'insert') {
            buckets.insert(piece);
            inserted.add(piece);
          } else {
            buckets.setPriority(piece, l);
            level[piece] = l;
          }
          const held = [...inserted].filter((p) => level[p]! > 0);
          expect(buckets.size).toBe(held.length);
          for (const l2 of [1, 2])
            expect(buckets.heldAtLevel(l2)).toBe(held.filter((p) => level[p] === l2).length);
          expect(buckets.has(piece)).toBe(inserted.has(piece) && level[piece]! > 0);
          expect(buckets.isParked(piece)).toBe(inserted.has(piece) && level[piece] === 0);
        }
        const all = buckets.rarest(() => true, 16);
        const held = [...inserted].filter((p) => level[p]! > 0);
        expect([...all].sort((a, b) => a - b)).toEqual(held.sort((a, b) => a - b));
        for (let i = 1; i < all.length; i++) {
          const [a, b] = [all[i - 1]!, all[i]!];
          expect(level[a]!).toBeGreaterThanOrEqual(level[b]!);
          if (level[a] === level[b])
            expect(availability[b]!).toBeGreaterThanOrEqual(availability[a]!);
        }
        expect(buckets.rarest(() => true, 16, 2).every((p) => level[p] === 2)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
