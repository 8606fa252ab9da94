/**
 * The piece picker: which 16 KiB blocks to request from which peer.
 *
 * Data model (after libtorrent's `piece_picker`): an availability count per piece (how many
 * connected peers have it), the set of verified pieces, and a `PartialPiece` for every piece
 * with at least one block requested or received, holding a per-block state and the peers that
 * requested each block (./picker-blocks.ts).
 *
 * Policy, in order (BEP 3 "Piece downloading strategy"; priorities and deadlines after
 * libtorrent's `piece_priority` and time-critical pieces, used for file selection and streaming):
 * 0. pieces with a deadline (`setDeadline`: the pieces under a stream's read head), earliest
 *    deadline first, partial or not, the first one's blocks also from a second peer once all are
 *    out; pieces of priority 0 (`setPriority`, unselected files) are never picked unless they
 *    have a deadline;
 * 1. partial pieces first, so that started pieces are finished and verified early;
 * 1b. new high-priority pieces before any normal one (rarest first among them);
 * 2. in `sequential` mode, the lowest missing piece (for streaming);
 * 3. while fewer than `randomFirstPieces` pieces are verified, a random piece (rare pieces take
 *    long to arrive, and a first piece is needed quickly to have something to upload);
 * 4. otherwise rarest first: the lowest availability, ties broken at random with the injected
 *    `Random` (each availability bucket is kept in random order; libtorrent shuffles pieces
 *    within a priority bucket the same way), then runs on with the pieces that follow it on
 *    disk while they tie (libtorrent's piece extent affinity; issue #22);
 * 5. end-game: when every missing block the peer has is already requested, request blocks
 *    already requested from others (never twice from the same peer); when one copy arrives
 *    the others are cancelled (`BlockReceived.cancel`).
 *
 * Outside end-game a block that is requested is never picked again until its request is
 * aborted (timeout, reject, choke, disconnect).
 *
 * Cost: no step scans every piece. Pieces not started live in availability buckets
 * (`PieceBuckets`), partial pieces with a free block in a small set, and sequential mode keeps a
 * cursor below which every piece is started or verified, so a pick costs the pieces it skips
 * (ones the peer lacks), not the piece count. Announcing a whole bitfield is O(pieces), once
 * per peer.
 */
import type { Random } from '@peerkit/transport';
import {
  BlockLedger,
  type BlockReceived,
  type BlockRequest,
  type PartialPiece,
} from './picker-blocks';
import { MAX_PIECE_PRIORITY, PieceBuckets } from './piece-buckets';
import { BLOCK_LENGTH } from './wire/messages';

export type { BlockReceived, BlockRequest, PartialPiece } from './picker-blocks';

/** What the picker needs to know about a peer's pieces; `Bitfield` satisfies it. */
export interface PieceSet {
  has(index: number): boolean;
}

export interface PiecePickerOptions {
  pieceCount: number;
  pieceLength: number;
  totalLength: number;
  random: Random;
  /** Pieces picked at random before rarest-first starts (default 4). */
  randomFirstPieces?: number;
  /** Pick the lowest missing piece first (streaming). Default false. */
  sequential?: boolean;
  /** Most peers one block is requested from in end-game (default 2). */
  endgameMaxRequesters?: number;
}

export class PiecePicker {
  readonly pieceCount: number;
  readonly pieceLength: number;
  readonly totalLength: number;
  readonly sequential: boolean;
  private readonly randomFirstPieces: number;
  /** Pieces neither started nor verified, by availability (rarest-first order). */
  private readonly fresh: PieceBuckets;
  private readonly verified: Uint8Array;
  private verifiedCount = 0;
  /** Pieces in a random order fixed at construction: the rarest-first tie-break. */
  private readonly order: Uint32Array;
  private readonly random: Random;
  /** Partial pieces, their blocks' requests, each peer's requests (./picker-blocks.ts). */
  private readonly blocks: BlockLedger;
  /** Sequential mode: every piece below it is started, verified or of priority 0. */
  private cursor = 0;
  /**
   * The piece after the last one started rarest first: the next of its run (piece affinity).
   * None at first (past the last piece): the first pick is the random one.
   */
  private runNext = Number.POSITIVE_INFINITY;
  /** Time-critical pieces (streaming): piece -> deadline, earlier first. */
  private readonly deadlines = new Map<number, number>();
  /** Pieces of priority above 0 not verified yet. */
  private wantedMissing: number;

  constructor(options: PiecePickerOptions) {
    const { pieceCount, pieceLength, totalLength } = options;
    if (!Number.isInteger(pieceCount) || pieceCount < 1) throw new RangeError('pieceCount < 1');
    if (pieceLength % BLOCK_LENGTH !== 0 && pieceCount > 1) {
      throw new RangeError('pieceLength must be a multiple of 16 KiB');
    }
    if (totalLength <= (pieceCount - 1) * pieceLength || totalLength > pieceCount * pieceLength) {
      throw new RangeError('totalLength does not match pieceCount and pieceLength');
    }
    this.pieceCount = pieceCount;
    this.pieceLength = pieceLength;
    this.totalLength = totalLength;
    this.random = options.random;
    this.sequential = options.sequential ?? false;
    this.randomFirstPieces = options.randomFirstPieces ?? 4;
    this.verified = new Uint8Array(pieceCount);
    this.blocks = new BlockLedger(
      Math.ceil(pieceLength / BLOCK_LENGTH),
      options.endgameMaxRequesters ?? 2,
      (piece, block) => this.blockSize(piece, block),
    );
    this.order = new Uint32Array(pieceCount);
    for (let i = 0; i < pieceCount; i++) this.order[i] = i;
    // Fisher-Yates with the injected Random, so a simulation replays from its seed.
    for (let i = pieceCount - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      const t = this.order[i]!;
      this.order[i] = this.order[j]!;
      this.order[j] = t;
    }
    this.fresh = new PieceBuckets(this.order, this.random);
    this.wantedMissing = pieceCount;
  }

  /** The length of piece `index` (the last one may be short). */
  pieceSize(index: number): number {
    return index === this.pieceCount - 1
      ? this.totalLength - (this.pieceCount - 1) * this.pieceLength
      : this.pieceLength;
  }

  blockCount(index: number): number {
    return Math.ceil(this.pieceSize(index) / BLOCK_LENGTH);
  }

  /** Length of block `block` of piece `piece`. */
  blockSize(piece: number, block: number): number {
    return Math.min(BLOCK_LENGTH, this.pieceSize(piece) - block * BLOCK_LENGTH);
  }

  // --- availability ---------------------------------------------------------------------------

  /** A peer announced its pieces (bitfield, have_all). */
  addAvailability(pieces: PieceSet): void {
    for (let i = 0; i < this.pieceCount; i++) if (pieces.has(i)) this.fresh.increment(i);
  }

  /** A peer with these pieces left (or replaced its bitfield). */
  removeAvailability(pieces: PieceSet): void {
    for (let i = 0; i < this.pieceCount; i++) if (pieces.has(i)) this.fresh.decrement(i);
  }

  /** A peer sent `have`. */
  incrementAvailability(index: number): void {
    this.fresh.increment(index);
  }

  availabilityOf(index: number): number {
    return this.fresh.availability[index]!;
  }

  /** Copy of the availability counts: O(pieces) per call; `availabilityView` does not copy. */
  availabilitySnapshot(): Uint32Array {
    return this.fresh.availability.slice();
  }

  /** The live availability counts, read-only, without a copy (for frequent stats). */
  availabilityView(): ArrayLike<number> {
    return this.fresh.availability;
  }

  // --- verified pieces ------------------------------------------------------------------------

  has(index: number): boolean {
    return this.verified[index] === 1;
  }

  get haveCount(): number {
    return this.verifiedCount;
  }

  get isComplete(): boolean {
    return this.verifiedCount === this.pieceCount;
  }

  /** Every piece of priority above 0 is verified (all selected files are complete). */
  get wantedComplete(): boolean {
    return this.wantedMissing === 0;
  }

  /** Pieces of priority above 0 not verified yet. */
  get wantedMissingCount(): number {
    return this.wantedMissing;
  }

  /** Marks a piece verified (its hash matched, or resume data says so). */
  setHave(index: number): void {
    const partial = this.blocks.partials.get(index);
    if (partial) this.blocks.drop(partial);
    this.fresh.remove(index);
    this.deadlines.delete(index);
    if (this.verified[index] === 0) {
      this.verified[index] = 1;
      this.verifiedCount++;
      if (this.fresh.priority[index]! > 0) this.wantedMissing--;
    }
  }

  // --- priorities and deadlines ----------------------------------------------------------------

  /** Priority of piece `index`: 0 skip, 1 normal (default), 2 high. */
  priorityOf(index: number): number {
    return this.fresh.priority[index]!;
  }

  /**
   * Sets a piece's priority (0 skip: never picked; 1 normal; 2 high: picked before any normal
   * piece). Requests already out for a skipped piece are left to finish.
   */
  setPriority(index: number, priority: number): void {
    if (priority > MAX_PIECE_PRIORITY) priority = MAX_PIECE_PRIORITY;
    const was = this.fresh.priority[index]!;
    if (was === priority) return;
    this.fresh.setPriority(index, priority);
    if (this.verified[index] === 0) {
      if (was === 0) this.wantedMissing++;
      else if (priority === 0) this.wantedMissing--;
    }
    if (index < this.cursor) this.cursor = index;
  }

  /** True when the piece is missing and would be picked (priority above 0, or a deadline). */
  wants(index: number): boolean {
    return (
      this.verified[index] === 0 && (this.fresh.priority[index]! > 0 || this.deadlines.has(index))
    );
  }

  /**
   * Makes a missing piece time-critical (libtorrent's `set_piece_deadline`): pieces with a
   * deadline are picked before any other, the earliest deadline first, whatever their priority.
   */
  setDeadline(index: number, deadline: number): void {
    if (this.verified[index] === 1) return;
    this.deadlines.set(index, deadline);
  }

  clearDeadline(index: number): void {
    this.deadlines.delete(index);
  }

  /** The pieces with a deadline now. */
  get deadlineCount(): number {
    return this.deadlines.size;
  }

  /** A completed piece failed its hash check: every block becomes free again. */
  pieceFailed(index: number): void {
    const partial = this.blocks.partials.get(index);
    if (partial) {
      this.blocks.drop(partial);
      this.release(index);
    }
  }

  /** True when `peer` has a piece we miss. */
  isInteresting(peer: PieceSet): boolean {
    for (let i = 0; i < this.pieceCount; i++) if (this.wants(i) && peer.has(i)) return true;
    return false;
  }

  // --- requests -------------------------------------------------------------------------------

  /** Number of requests outstanding with `peer`. */
  outstanding(peer: number): number {
    return this.blocks.outstanding(peer);
  }

  /** True when `peer` has an outstanding request for this block. */
  isRequestedFrom(peer: number, piece: number, offset: number): boolean {
    return this.blocks.isRequestedFrom(peer, piece, offset);
  }

  /** Outstanding requests of `peer`. */
  requestsOf(peer: number): BlockRequest[] {
    return this.blocks.requestsOf(peer);
  }

  get partialCount(): number {
    return this.blocks.partials.size;
  }

  /** True when no free block is left in any missing piece: duplicates are allowed. */
  get inEndgame(): boolean {
    return this.fresh.size === 0 && this.blocks.open.size === 0;
  }

  /**
   * Picks up to `max` blocks to request from `peer`, whose pieces are `peerHas`, and records
   * them as requested. `allowedFast` restricts the pick to those pieces (BEP 6: a choked peer
   * serves only its allowed-fast set).
   */
  pick(
    peer: number,
    peerHas: PieceSet,
    max: number,
    allowedFast?: ReadonlySet<number>,
  ): BlockRequest[] {
    const out: BlockRequest[] = [];
    if (max <= 0) return out;
    const eligible = (i: number): boolean =>
      this.wants(i) && peerHas.has(i) && (allowedFast === undefined || allowedFast.has(i));

    // 0. Time-critical pieces, the earliest deadline first. The blocks of the first one (the
    // piece under a stream's read head) may also be asked of a second peer when all are out
    // already, as libtorrent does for time-critical pieces: a slow peer cannot hold it up.
    if (this.deadlines.size > 0) {
      const urgent = [...this.deadlines].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
      let head = true;
      for (const [index] of urgent) {
        if (!eligible(index)) continue;
        const partial = this.blocks.partials.get(index);
        if (partial === undefined || this.blocks.open.has(index)) {
          this.blocks.takeFree(peer, partial ?? this.partialFor(index), max, out);
        } else if (head) {
          this.blocks.duplicate(peer, partial, max, out);
        }
        head = false;
        if (out.length >= max) return out;
      }
    }

    // 1. Partial pieces first, the most complete first.
    if (this.blocks.open.size > 0) {
      const partials: PartialPiece[] = [];
      for (const index of this.blocks.open)
        if (eligible(index)) partials.push(this.blocks.partials.get(index)!);
      partials.sort(
        (a, b) => b.received + b.requested - (a.received + a.requested) || a.index - b.index,
      );
      for (const p of partials) {
        this.blocks.takeFree(peer, p, max, out);
        if (out.length >= max) return out;
      }
    }

    // 2-4. Start new pieces (a new piece has all its blocks free).
    while (out.length < max) {
      const pieces = this.pickNewPieces(
        eligible,
        Math.ceil((max - out.length) / this.blocks.blocksPerPiece),
      );
      if (pieces.length === 0) break;
      for (const index of pieces) this.blocks.takeFree(peer, this.partialFor(index), max, out);
    }
    if (out.length >= max) return out;

    // 5. End-game: duplicate requests for blocks requested elsewhere, never from the same peer.
    if (this.inEndgame) {
      for (const p of this.blocks.partials.values()) {
        if (eligible(p.index)) this.blocks.duplicate(peer, p, max, out);
        if (out.length >= max) break;
      }
    }
    return out;
  }

  /**
   * A block arrived from `peer`. Accepted only if it was requested from that peer and not
   * received yet; then all other requests for it are withdrawn and returned for cancelling.
   */
  received(peer: number, piece: number, offset: number): BlockReceived {
    return this.blocks.received(peer, piece, offset);
  }

  /** Withdraws `peer`'s request for a block (timeout, reject, cancel). */
  abort(peer: number, piece: number, offset: number): void {
    if (this.blocks.abort(peer, piece, offset)) this.release(piece);
  }

  /** Withdraws every request of `peer` (choked without fast extension, disconnected). */
  abortAll(peer: number): BlockRequest[] {
    const requests = this.requestsOf(peer);
    for (const r of requests) this.abort(peer, r.piece, r.offset);
    this.blocks.forgetPeer(peer);
    return requests;
  }

  /** Read-only view of a partial piece, for tests and stats. */
  partial(index: number): PartialPiece | undefined {
    return this.blocks.partials.get(index);
  }

  // --- internals ------------------------------------------------------------------------------

  /** Up to `count` pieces to start, by policy 2-4. */
  private pickNewPieces(eligible: (i: number) => boolean, count: number): number[] {
    if (this.fresh.heldAtLevel(MAX_PIECE_PRIORITY) > 0) {
      // High-priority pieces before any normal one, rarest first among them.
      const high = this.fresh.rarest(eligible, count, MAX_PIECE_PRIORITY);
      if (high.length > 0) return high;
    }
    if (this.sequential) {
      // Lowest missing pieces: move the cursor past started and verified pieces, then take the
      // first not-started pieces this peer has.
      while (this.cursor < this.pieceCount && !this.fresh.has(this.cursor)) this.cursor++;
      const out: number[] = [];
      for (let i = this.cursor; i < this.pieceCount && out.length < count; i++)
        if (this.fresh.has(i) && eligible(i)) out.push(i);
      return out;
    }
    if (this.verifiedCount + this.blocks.partials.size < this.randomFirstPieces) {
      // Random first pieces: the first eligible piece in the shuffled order (fewer than
      // `randomFirstPieces` pieces are started or verified, so few are skipped for that).
      for (let k = 0; k < this.pieceCount; k++) {
        const i = this.order[k]!;
        if (this.fresh.has(i) && eligible(i)) return [i];
      }
      return [];
    }
    // Rarest first; each bucket's random order breaks ties, and a tie goes on with the run of
    // pieces after the last one started (piece affinity, after libtorrent's extent affinity):
    // adjacent on disk, they are read and written in one go on both sides.
    const out: number[] = [];
    const fresh = (i: number) =>
      i < this.pieceCount && this.fresh.has(i) && eligible(i) && !out.includes(i);
    while (out.length < count) {
      const rarest = this.fresh.rarest((i) => eligible(i) && !out.includes(i), 1)[0];
      if (rarest === undefined) break;
      const level = this.fresh.availability[rarest];
      let i =
        fresh(this.runNext) && this.fresh.availability[this.runNext] === level
          ? this.runNext
          : rarest;
      while (out.length < count && fresh(i) && this.fresh.availability[i] === level) out.push(i++);
      this.runNext = i;
    }
    return out;
  }

  /** A partial piece was dropped and is not verified: it can be started again. */
  private release(index: number): void {
    if (this.verified[index] === 1) return;
    this.fresh.insert(index);
    if (index < this.cursor) this.cursor = index;
  }

  /** The partial piece `index`; starting it takes it out of the pieces not started. */
  private partialFor(index: number): PartialPiece {
    if (!this.blocks.partials.has(index)) this.fresh.remove(index);
    return this.blocks.partialFor(index, this.blockCount(index));
  }
}
