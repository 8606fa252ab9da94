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
 */
import type { Random } from '@peerkit/transport';

export class PieceBuckets {
  /** Availability of every piece, held or not. */
  readonly availability: Uint32Array;
  /** `buckets[a]`: the held pieces of availability `a`, in random order. */
  private readonly buckets: number[][] = [[]];
  /** Position of each piece in its bucket; -1 when the piece is not held. */
  private readonly slot: Int32Array;
  private readonly random: Random;
  private held = 0;

  /** Holds every piece, in availability bucket 0, in the order `initialOrder` (a shuffle). */
  constructor(initialOrder: Uint32Array, random: Random) {
    const n = initialOrder.length;
    this.random = random;
    this.availability = new Uint32Array(n);
    this.slot = new Int32Array(n);
    const first = this.buckets[0]!;
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
    if (this.slot[piece]! < 0) return;
    this.leave(piece, this.availability[piece]!);
    this.held--;
  }

  /** Holds `piece` again (a started piece was given back, or failed its hash check). */
  insert(piece: number): void {
    if (this.slot[piece]! >= 0) return;
    this.join(piece, this.availability[piece]!);
    this.held++;
  }

  /**
   * Up to `count` held pieces for which `accept` is true, rarest first and in each bucket's
   * random order. One pass: costs the pieces it rejects on the way, however many it returns.
   */
  rarest(accept: (piece: number) => boolean, count: number): number[] {
    const out: number[] = [];
    if (count <= 0) return out;
    for (const bucket of this.buckets) {
      for (const piece of bucket) {
        if (!accept(piece)) continue;
        out.push(piece);
        if (out.length === count) return out;
      }
    }
    return out;
  }

  private join(piece: number, a: number): void {
    while (this.buckets.length <= a) this.buckets.push([]);
    const bucket = this.buckets[a]!;
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
    const bucket = this.buckets[a]!;
    const at = this.slot[piece]!;
    const last = bucket.pop()!;
    if (last !== piece) {
      bucket[at] = last;
      this.slot[last] = at;
    }
    this.slot[piece] = -1;
  }
}
