/**
 * The picker's block bookkeeping (./picker.ts): a `PartialPiece` for every piece with at least
 * one 16 KiB block requested or received, each block's state and the peers it is requested from,
 * and every peer's outstanding requests. Which pieces to take blocks from is the picker's choice;
 * this records the requests, matches the blocks that arrive against them (BEP 3 `request`,
 * `piece`, `cancel`) and frees them again when a request is withdrawn.
 */
import { BLOCK_LENGTH } from './wire/messages';

export interface BlockRequest {
  readonly piece: number;
  readonly offset: number;
  readonly length: number;
}

const FREE = 0;
const REQUESTED = 1;
const RECEIVED = 2;

/** A piece with at least one block requested or received. */
export interface PartialPiece {
  readonly index: number;
  /** Per block: 0 free, 1 requested, 2 received. */
  readonly state: Uint8Array;
  /** Per block: the peers a request is outstanding with. */
  readonly requesters: number[][];
  received: number;
  requested: number;
}

export interface BlockReceived {
  /** False when the block was not requested from this peer (unsolicited or already received). */
  readonly accepted: boolean;
  /** Every block of the piece is now received: hash it. */
  readonly pieceComplete: boolean;
  /** Other peers the same block was requested from (end-game): send them `cancel`. */
  readonly cancel: readonly number[];
}

export class BlockLedger {
  readonly partials = new Map<number, PartialPiece>();
  /** Partial pieces with at least one free block. */
  readonly open = new Set<number>();
  /** Outstanding requests per peer, as `piece * blocksPerPiece + block` keys. */
  readonly #byPeer = new Map<number, Set<number>>();

  constructor(
    readonly blocksPerPiece: number,
    readonly endgameMaxRequesters: number,
    /** Length of block `block` of piece `piece` (the last piece's last block may be short). */
    readonly blockSize: (piece: number, block: number) => number,
  ) {}

  /** Number of requests outstanding with `peer`. */
  outstanding(peer: number): number {
    return this.#byPeer.get(peer)?.size ?? 0;
  }

  /** True when `peer` has an outstanding request for this block. */
  isRequestedFrom(peer: number, piece: number, offset: number): boolean {
    return this.#byPeer.get(peer)?.has(this.#key(piece, offset / BLOCK_LENGTH)) ?? false;
  }

  /** Outstanding requests of `peer`. */
  requestsOf(peer: number): BlockRequest[] {
    const out: BlockRequest[] = [];
    for (const key of this.#byPeer.get(peer) ?? []) {
      const piece = Math.floor(key / this.blocksPerPiece);
      const block = key % this.blocksPerPiece;
      out.push({ piece, offset: block * BLOCK_LENGTH, length: this.blockSize(piece, block) });
    }
    return out;
  }

  /** Forgets `peer`'s request set (after every request of it was aborted). */
  forgetPeer(peer: number): void {
    this.#byPeer.delete(peer);
  }

  /** The partial piece `index`, made with every block free when it was not started. */
  partialFor(index: number, blocks: number): PartialPiece {
    let partial = this.partials.get(index);
    if (!partial) {
      partial = {
        index,
        state: new Uint8Array(blocks),
        requesters: Array.from({ length: blocks }, () => []),
        received: 0,
        requested: 0,
      };
      this.partials.set(index, partial);
      this.open.add(index);
    }
    return partial;
  }

  /**
   * A block arrived from `peer`. Accepted only if it was requested from that peer and not
   * received yet; then all other requests for it are withdrawn and returned for cancelling.
   */
  received(peer: number, piece: number, offset: number): BlockReceived {
    const partial = this.partials.get(piece);
    const block = offset / BLOCK_LENGTH;
    if (!partial || !Number.isInteger(block) || block >= partial.state.length) {
      return { accepted: false, pieceComplete: false, cancel: [] };
    }
    const requesters = partial.requesters[block]!;
    const at = requesters.indexOf(peer);
    if (partial.state[block] !== REQUESTED || at < 0) {
      return { accepted: false, pieceComplete: false, cancel: [] };
    }
    const key = this.#key(piece, block);
    const cancel: number[] = [];
    for (const other of requesters) {
      this.#byPeer.get(other)?.delete(key);
      if (other !== peer) cancel.push(other);
    }
    requesters.length = 0;
    partial.state[block] = RECEIVED;
    partial.requested--;
    partial.received++;
    return { accepted: true, pieceComplete: partial.received === partial.state.length, cancel };
  }

  /**
   * Withdraws `peer`'s request for a block (timeout, reject, cancel). Returns true when that
   * left the piece with nothing requested or received: it was dropped and can be started again.
   */
  abort(peer: number, piece: number, offset: number): boolean {
    const partial = this.partials.get(piece);
    const block = offset / BLOCK_LENGTH;
    if (!partial || !Number.isInteger(block) || block >= partial.state.length) return false;
    const requesters = partial.requesters[block]!;
    const at = requesters.indexOf(peer);
    if (at < 0) return false;
    requesters.splice(at, 1);
    this.#byPeer.get(peer)?.delete(this.#key(piece, block));
    if (requesters.length === 0 && partial.state[block] === REQUESTED) {
      partial.state[block] = FREE;
      partial.requested--;
      this.open.add(piece);
      if (partial.requested === 0 && partial.received === 0) {
        this.drop(partial);
        return true;
      }
    }
    return false;
  }

  /** Requests from `peer` the free blocks of `p`, up to `out.length === max`. */
  takeFree(peer: number, p: PartialPiece, max: number, out: BlockRequest[]): void {
    for (let b = 0; b < p.state.length && out.length < max; b++) {
      if (p.state[b] !== FREE) continue;
      p.state[b] = REQUESTED;
      p.requested++;
      p.requesters[b]!.push(peer);
      this.#peerSet(peer).add(this.#key(p.index, b));
      out.push({ piece: p.index, offset: b * BLOCK_LENGTH, length: this.blockSize(p.index, b) });
    }
    if (p.received + p.requested === p.state.length) this.open.delete(p.index);
  }

  /**
   * Requests from `peer` blocks of `p` already requested from others (end-game, or a
   * time-critical piece): at most `endgameMaxRequesters` peers per block, never one twice.
   */
  duplicate(peer: number, p: PartialPiece, max: number, out: BlockRequest[]): void {
    for (let b = 0; b < p.state.length && out.length < max; b++) {
      const requesters = p.requesters[b]!;
      if (p.state[b] !== REQUESTED) continue;
      if (requesters.length >= this.endgameMaxRequesters || requesters.includes(peer)) continue;
      requesters.push(peer);
      this.#peerSet(peer).add(this.#key(p.index, b));
      out.push({ piece: p.index, offset: b * BLOCK_LENGTH, length: this.blockSize(p.index, b) });
    }
  }

  /** Forgets a partial piece and every request out for its blocks. */
  drop(partial: PartialPiece): void {
    for (let b = 0; b < partial.state.length; b++) {
      for (const peer of partial.requesters[b]!)
        this.#byPeer.get(peer)?.delete(this.#key(partial.index, b));
    }
    this.partials.delete(partial.index);
    this.open.delete(partial.index);
  }

  #peerSet(peer: number): Set<number> {
    let set = this.#byPeer.get(peer);
    if (!set) {
      set = new Set();
      this.#byPeer.set(peer, set);
    }
    return set;
  }

  #key(piece: number, block: number): number {
    return piece * this.blocksPerPiece + block;
  }
}
