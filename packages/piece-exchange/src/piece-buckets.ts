/**
 * Availability buckets: the pieces not yet started, grouped by how many connected peers have
 * them, so that rarest-first finds its piece without scanning every piece.
 *
 * After libtorrent's `piece_picker`, which keeps its pieces sorted by priority and availability
 * with one boundary per priority: here bucket `a` holds the pieces of availability `a`, and
 * `slot[piece]` is the piece's position in its bucket (-1 when it is not held: verified, or
 * started and tracked as a partial piece by the picker).
 *
 * Every bucket is kept in a uniformly random order, which is the rarest-first tie-break
 * (BEP 3 "Piece downloading strategy": rarest first, ties at random): a piece joins a bucket at
 * a random position (the element there moves to the end, one Fisher-Yates step), and leaves it
 * by taking the last element into its place. Both keep a random permutation random, and both
 * cost O(1), so an availability change (`have`, a peer leaving) costs O(1) and a pick costs
 * O(number of pieces skipped), not O(number of pieces).
 *
 * Piece priorities (file selection, libtorrent's `piece_priority`): every piece has a priority
 * level, 0 (skip) to `MAX_PIECE_PRIORITY`; the buckets of a higher level are all visited before
 * any of a lower one, so a high-priority piece is picked before a normal one whatever their
 * availability. A piece of priority 0 is not held: it is "parked" (wanted by nobody) and joins
 * its bucket again when its priority is raised.
 */
import type { Random } from '@peerkit/transport';

/** Highest piece priority: 0 skip, 1 normal (the default), 2 high. */
export const MAX_PIECE_PRIORITY = 2;

export class PieceBuckets {
  /** Availability of every piece, held or not. */
  readonly availability: Uint32Array;
  /** Priority level of every piece (0 skip, 1 normal, 2 high), held or not. */
  readonly priority: Uint8Array;
  /** `levels[p][a]`: the held pieces of priority `p` and availability `a`, in random order. */
  private readonly levels: number[][][] = [];
  /** Position of each piece in its bucket; -1 when the piece is not held. */
  private readonly slot: Int32Array;
  /** 1 for a piece that would be held but has priority 0. */
  private readonly parked: Uint8Array;
  /** Held pieces per priority level. */
  private readonly heldAt: number[] = [];
  private readonly random: Random;
  private held = 0;

  /** Holds every piece, in availability bucket 0, in the order `initialOrder` (a shuffle). */
  constructor(initialOrder: Uint32Array, random: Random) {
    const n = initialOrder.length;
    this.random = random;
    this.availability = new Uint32Array(n);
    this.slot = new Int32Array(n);
    this.parked = new Uint8Array(n);
    this.priority = new Uint8Array(n).fill(1);
    for (let p = 0; p <= MAX_PIECE_PRIORITY; p++) {
      this.levels.push([[]]);
      this.heldAt.push(0);
    }
    this.heldAt[1] = n;
    const first = this.levels[1]![0]!;
    for (let k = 0; k < n; k++) {
      const piece = initialOrder[k]!;
      this.slot[piece] = k;
      first.push(piece);
    }
    this.held = n;
  }

  /** Number of pieces held (not started and not verified). */
  get size(): number {
    return this.held;
  }

  has(piece: number): boolean {
    return this.slot[piece]! >= 0;
  }

  /** Not started, not verified, but of priority 0: not held until its priority is raised. */
  isParked(piece: number): boolean {
    return this.parked[piece] === 1;
  }

  /** Number of held pieces of priority `level`. */
  heldAtLevel(level: number): number {
    return this.heldAt[level] ?? 0;
  }

  /** Sets the priority of `piece` (0 parks it; raising it from 0 holds it again). */
  setPriority(piece: number, level: number): void {
    if (!Number.isInteger(level) || level < 0 || level > MAX_PIECE_PRIORITY) {
      throw new RangeError(`piece priority must be 0 to ${MAX_PIECE_PRIORITY}`);
    }
    const was = this.priority[piece]!;
    if (was === level) return;
    const held = this.slot[piece]! >= 0;
    if (held) this.remove(piece);
    const parked = this.parked[piece] === 1;
    this.parked[piece] = 0;
    this.priority[piece] = level;
    if (held || parked) this.insert(piece);
  }
  /** One more peer has `piece`. */
  increment(piece: number): void {
    const a = this.availability[piece]!;
    if (this.slot[piece]! >= 0) {
      this.leave(piece, a);
      this.join(piece, a + 1);
    }
    this.availability[piece] = a + 1;
  }

  /** One peer fewer has `piece` (never below 0). */
  decrement(piece: number): void {
    const a = this.availability[piece]!;
    if (a === 0) return;
    if (this.slot[piece]! >= 0) {
      this.leave(piece, a);
      this.join(piece, a - 1);
    }
    this.availability[piece] = a - 1;
  }

  /** Stops holding `piece` (it was started or verified). */
  remove(piece: number): void {
    this.parked[piece] = 0;
    if (this.slot[piece]! < 0) return;
    this.leave(piece, this.availability[piece]!);
    this.held--;
    this.heldAt[this.priority[piece]!]!--;
  }

  /** Holds `piece` again (a started piece was given back, or failed its hash check). */
  insert(piece: number): void {
    if (this.slot[piece]! >= 0) return;
    if (this.priority[piece] === 0) {
      this.parked[piece] = 1;
      return;
    }
    this.join(piece, this.availability[piece]!);
    this.held++;
    this.heldAt[this.priority[piece]!]!++;
  }

  /**
   * Up to `count` held pieces for which `accept` is true, of priority `minLevel` or more:
   * highest priority first, then rarest first, in each bucket's random order. One pass: costs
   * the pieces it rejects on the way, however many it returns.
   */
  rarest(accept: (piece: number) => boolean, count: number, minLevel = 1): number[] {
    const out: number[] = [];
    if (count <= 0) return out;
    for (let level = MAX_PIECE_PRIORITY; level >= Math.max(1, minLevel); level--) {
      if (this.heldAt[level] === 0) continue;
      for (const bucket of this.levels[level]!) {
        for (const piece of bucket) {
          if (!accept(piece)) continue;
          out.push(piece);
          if (out.length === count) return out;
        }
      }
    }
    return out;
  }

  private bucket(piece: number, a: number): number[] {
    const buckets = this.levels[this.priority[piece]!]!;
    while (buckets.length <= a) buckets.push([]);
    return buckets[a]!;
  }

  private join(piece: number, a: number): void {
    const bucket = this.bucket(piece, a);
    // A random position: the piece there moves to the end (one step of Fisher-Yates).
    const at = this.random.int(bucket.length + 1);
    if (at < bucket.length) {
      const moved = bucket[at]!;
      bucket.push(moved);
      this.slot[moved] = bucket.length - 1;
      bucket[at] = piece;
    } else {
      bucket.push(piece);
    }
    this.slot[piece] = at;
  }

  private leave(piece: number, a: number): void {
    const bucket = this.bucket(piece, a);
    const at = this.slot[piece]!;
    const last = bucket.pop()!;
    if (last !== piece) {
      bucket[at] = last;
      this.slot[last] = at;
    }
    this.slot[piece] = -1;
  }
}
