/**
 * Properties of the bucketed picker (issue #22), next to the model test in picker.test.ts:
 * rarest-first order, a uniformly random tie-break (also after availability changes), partial
 * pieces first, a requested block never picked twice outside end-game, end-game limits, the
 * sequential cursor, and a 100,000-piece resumed download picked to the end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PiecePicker } from '../src/picker';
import { PieceBuckets } from '../src/piece-buckets';
import { BLOCK_LENGTH } from '../src/wire/messages';
import { pieceSet, seededRandom } from './helpers';

function onePerBlock(pieceCount: number, seed: number, extra: object = {}): PiecePicker {
  return new PiecePicker({
    pieceCount,
    pieceLength: BLOCK_LENGTH,
    totalLength: pieceCount * BLOCK_LENGTH,
    random: seededRandom(seed),
    randomFirstPieces: 0,
    ...extra,
  });
}

describe('PieceBuckets', () => {
  it('holds exactly the inserted pieces, in non-decreasing availability (model)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('inc' as const), piece: fc.nat(15) }),
      fc.record({ kind: fc.constant('dec' as const), piece: fc.nat(15) }),
      fc.record({ kind: fc.constant('remove' as const), piece: fc.nat(15) }),
      fc.record({ kind: fc.constant('insert' as const), piece: fc.nat(15) }),
    );
    fc.assert(
      fc.property(fc.integer(), fc.array(op, { maxLength: 200 }), (seed, ops) => {
        const order = Uint32Array.from({ length: 16 }, (_, i) => i);
        const buckets = new PieceBuckets(order, seededRandom(seed));
        const availability = new Array<number>(16).fill(0);
        const held = new Set(order);
        for (const { kind, piece } of ops) {
          if (kind === 'inc') {
            buckets.increment(piece);
            availability[piece]!++;
          } else if (kind === 'dec') {
            buckets.decrement(piece);
            if (availability[piece]! > 0) availability[piece]!--;
          } else if (kind === 'remove') {
            buckets.remove(piece);
            held.delete(piece);
          } else {
            buckets.insert(piece);
            held.add(piece);
          }
          expect(buckets.size).toBe(held.size);
          expect(buckets.availability[piece]).toBe(availability[piece]);
        }
        const all = buckets.rarest(() => true, 16);
        expect([...all].sort((a, b) => a - b)).toEqual([...held].sort((a, b) => a - b));
        for (let i = 1; i < all.length; i++)
          expect(availability[all[i]!]!).toBeGreaterThanOrEqual(availability[all[i - 1]!]!);
        for (let p = 0; p < 16; p++) expect(buckets.has(p)).toBe(held.has(p));
      }),
      { numRuns: 300 },
    );
  });
});

describe('PiecePicker (bucketed)', () => {
  it('picks new pieces rarest first: availabilities come out in sorted order', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.array(fc.nat(5), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        (seed, availability, max) => {
          const n = availability.length;
          const picker = onePerBlock(n, seed);
          availability.forEach((a, piece) => {
            for (let k = 0; k < a; k++) picker.incrementAvailability(piece);
          });
          const seen: number[] = [];
          const all = pieceSet(new Array(n).fill(true));
          for (let round = 0; round <= n; round++) {
            for (const r of picker.pick(1, all, max)) seen.push(availability[r.piece]!);
          }
          expect(seen).toEqual([...availability].sort((a, b) => a - b));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('breaks ties uniformly at random, also after availability changes', () => {
    // Four pieces reach availability 2 one after the other (in index order): a bucket that
    // appended them would always offer piece 0 first. Each piece should come first ~1/4 of runs.
    const firsts = [0, 0, 0, 0];
    const runs = 2000;
    for (let seed = 1; seed <= runs; seed++) {
      const picker = onePerBlock(4, seed);
      for (let step = 0; step < 2; step++)
        for (let piece = 0; piece < 4; piece++) picker.incrementAvailability(piece);
      firsts[picker.pick(1, pieceSet([true, true, true, true]), 1)[0]!.piece]!++;
    }
    // Binomial(2000, 1/4): mean 500, standard deviation ~19; the bounds are > 7 deviations.
    for (const count of firsts) {
      expect(count).toBeGreaterThan(360);
      expect(count).toBeLessThan(640);
    }
  });

  it('finishes partial pieces first, and never hands out a requested block twice before end-game', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.nat(3), fc.integer({ min: 1, max: 5 })), { maxLength: 30 }),
        (seed, pieceCount, blocks, picks) => {
          const picker = new PiecePicker({
            pieceCount,
            pieceLength: blocks * BLOCK_LENGTH,
            totalLength: pieceCount * blocks * BLOCK_LENGTH,
            random: seededRandom(seed),
          });
          const all = pieceSet(new Array(pieceCount).fill(true));
          for (let peer = 0; peer < 4; peer++) picker.addAvailability(all);
          const askedFrom = new Map<string, Set<number>>();
          for (const [peer, max] of picks) {
            const open = new Set<number>();
            for (let p = 0; p < pieceCount; p++) {
              const partial = picker.partial(p);
              if (partial && partial.received + partial.requested < partial.state.length)
                open.add(p);
            }
            const got = picker.pick(peer, all, max);
            if (open.size > 0 && got.length > 0) expect(open.has(got[0]!.piece)).toBe(true);
            let duplicates = false;
            for (const r of got) {
              const key = `${r.piece}:${r.offset}`;
              const peers = askedFrom.get(key) ?? new Set<number>();
              expect(peers.has(peer)).toBe(false);
              if (peers.size > 0) {
                // A block asked of another peer again: only in end-game, after every free block.
                duplicates = true;
                expect(picker.inEndgame).toBe(true);
              } else {
                expect(duplicates).toBe(false);
              }
              peers.add(peer);
              askedFrom.set(key, peers);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('end-game asks at most endgameMaxRequesters peers per block, each once, and cancels the rest', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (seed, pieceCount, limit) => {
          const picker = onePerBlock(pieceCount, seed, { endgameMaxRequesters: limit });
          const all = pieceSet(new Array(pieceCount).fill(true));
          expect(picker.pick(0, all, pieceCount)).toHaveLength(pieceCount);
          expect(picker.inEndgame).toBe(true);
          for (let peer = 0; peer < 6; peer++) picker.pick(peer, all, pieceCount);
          for (let piece = 0; piece < pieceCount; piece++) {
            const requesters = picker.partial(piece)!.requesters[0]!;
            expect(requesters.length).toBe(limit);
            expect(new Set(requesters).size).toBe(requesters.length);
            const first = requesters[0]!;
            const others = requesters.slice(1);
            expect(picker.received(first, piece, 0).cancel).toEqual(others);
            for (const other of others) expect(picker.isRequestedFrom(other, piece, 0)).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('availabilityView is live without a copy; availabilitySnapshot is a copy', () => {
    const picker = onePerBlock(4, 1);
    const view = picker.availabilityView();
    const before = picker.availabilitySnapshot();
    picker.addAvailability(pieceSet([true, false, true, true]));
    picker.incrementAvailability(2);
    picker.removeAvailability(pieceSet([false, false, false, true]));
    expect(Array.from(view)).toEqual([1, 0, 2, 0]);
    expect(Array.from(before)).toEqual([0, 0, 0, 0]);
    for (let i = 0; i < 4; i++) expect(view[i]).toBe(picker.availabilityOf(i));
  });

  it('sequential mode goes back to a lower piece whose request was given back', () => {
    const picker = onePerBlock(8, 5, { sequential: true });
    const all = pieceSet(new Array(8).fill(true));
    expect(picker.pick(1, all, 3).map((r) => r.piece)).toEqual([0, 1, 2]);
    picker.abort(1, 1, 0);
    expect(picker.pick(2, all, 2).map((r) => r.piece)).toEqual([1, 3]);
    const failed = picker.received(1, 0, 0);
    expect(failed.pieceComplete).toBe(true);
    picker.pieceFailed(0);
    expect(picker.pick(2, all, 1).map((r) => r.piece)).toEqual([0]);
  });

  it('a 100,000-piece torrent resumed half verified is picked to the end, each missing piece once', () => {
    const n = 100_000;
    const picker = onePerBlock(n, 7);
    const random = seededRandom(11);
    const bits = new Array<boolean>(n).fill(true);
    const seeds = [pieceSet(bits), pieceSet(bits)];
    const half = pieceSet(bits.map(() => random.int(2) === 0));
    picker.addAvailability(seeds[0]!);
    picker.addAvailability(seeds[1]!);
    picker.addAvailability(half);
    let missing = n;
    for (let i = 0; i < n; i += 2) {
      picker.setHave(i);
      missing--;
    }
    const picked = new Uint8Array(n);
    let count = 0;
    let wrong = 0;
    for (let round = 0; round < n && !picker.isComplete; round++) {
      const peer = round % 3;
      const got = picker.pick(peer, peer === 2 ? half : seeds[peer]!, 16);
      for (const r of got) {
        // Counted rather than asserted one by one: 50,000 expect() calls would dominate.
        if (picker.has(r.piece) || picked[r.piece] === 1) wrong++;
        picked[r.piece] = 1;
        count++;
        if (!picker.received(peer, r.piece, r.offset).pieceComplete) wrong++;
        picker.setHave(r.piece);
      }
    }
    expect(wrong).toBe(0);
    expect(picker.isComplete).toBe(true);
    expect(count).toBe(missing);
  });
});
