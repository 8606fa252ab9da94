/**
 * The requests we send one peer (BEP 3 "pipelining"): how many to keep outstanding, which
 * pieces we may ask for while it chokes us (BEP 6 allowed fast), and what happens to a peer that
 * stops sending (snubbed). The picker remembers which blocks are outstanding with whom; this
 * keeps the per-peer side: the allowed-fast set, the download rate and the snub clock.
 *
 * - Depth: enough to cover `pipelineSeconds` at the measured rate (`pipelineDepth`), topped up
 *   in batches of a quarter of the depth so that requests share socket writes.
 * - Choked without the fast extension: nothing is requested. Choked with it: only pieces of the
 *   peer's allowed-fast set, and a rejected one leaves the set (no request loop, webtorrent#890).
 * - Nothing received for `requestTimeoutMs` while requests are outstanding: they go back to the
 *   picker (cancelled), and an unchoking peer is snubbed (depth one) until its next block.
 */
import type { Bitfield } from '../bitfield';
import type { BlockRequest, PiecePicker } from '../picker';
import { encodeRequest } from '../wire/messages';
import { type PeerLimits, pipelineDepth } from './peer-limits';
import { RateMeter } from './rate';

/** The size of one encoded `request` message (4-byte length, id, three 4-byte integers). */
const REQUEST_MESSAGE_BYTES = 17;

/** The session's state the pipeline reads when it tops up. */
export interface PipelineState {
  readonly picker: PiecePicker;
  /** The peer's pieces. */
  readonly pieces: Bitfield;
  readonly peerChoking: boolean;
  /** BEP 6 on both sides. */
  readonly fast: boolean;
  /** The peer's `reqq` (BEP 10), if it sent one. */
  readonly reqq: number | undefined;
  readonly limits: PeerLimits;
  readonly now: number;
}

export class RequestPipeline {
  readonly #id: number;
  /** Pieces the peer lets us request while it chokes us (BEP 6). */
  readonly #allowedFast = new Set<number>();
  readonly #download = new RateMeter();
  #snubbed = false;
  /** When the last block arrived (or the pipeline last went from empty to busy). */
  #lastBlockAt: number;

  constructor(id: number, now: number) {
    this.#id = id;
    this.#lastBlockAt = now;
  }

  get allowedFast(): ReadonlySet<number> {
    return this.#allowedFast;
  }

  get snubbed(): boolean {
    return this.#snubbed;
  }

  get downloaded(): number {
    return this.#download.total;
  }

  downloadRate(now: number): number {
    return this.#download.rate(now);
  }

  /** BEP 6 `allowed fast` from the peer. */
  allow(piece: number): void {
    this.#allowedFast.add(piece);
  }

  /** We have `piece` now: no need to ask for it. */
  forget(piece: number): void {
    this.#allowedFast.delete(piece);
  }

  /** BEP 6 `reject request`: the request is withdrawn; a choked rejection ends the fast grant. */
  rejected(picker: PiecePicker | undefined, piece: number, offset: number, choked: boolean): void {
    picker?.abort(this.#id, piece, offset);
    if (choked) this.#allowedFast.delete(piece);
  }

  /** A block arrived: it counts toward the rate and ends a snub. */
  received(bytes: number, now: number): void {
    this.#download.add(bytes, now);
    this.#lastBlockAt = now;
    this.#snubbed = false;
  }

  /** How many requests to keep outstanding with this peer (see `pipelineDepth`). */
  depth(now: number, limits: PeerLimits, reqq: number | undefined): number {
    return pipelineDepth(this.#download.rate(now), limits, reqq, this.#snubbed);
  }

  /** The `request` messages that top the pipeline up, in one buffer; undefined for none. */
  fill(s: PipelineState): Uint8Array | undefined {
    let allowed: ReadonlySet<number> | undefined;
    if (s.peerChoking) {
      if (!s.fast || this.#allowedFast.size === 0) return undefined;
      allowed = this.#allowedFast;
    }
    const before = s.picker.outstanding(this.#id);
    const depth = this.depth(s.now, s.limits, s.reqq);
    const want = depth - before;
    // Top up in batches of a quarter of the depth: on loopback a socket write costs tens of
    // microseconds, so requests should share writes.
    if (want <= 0 || (before > 0 && want < Math.ceil(depth / 4))) return undefined;
    const picks = s.picker.pick(this.#id, s.pieces, want, allowed);
    if (picks.length === 0) return undefined;
    if (before === 0) this.#lastBlockAt = s.now;
    const out = new Uint8Array(REQUEST_MESSAGE_BYTES * picks.length);
    for (let i = 0; i < picks.length; i++) {
      const r = picks[i]!;
      out.set(encodeRequest(r.piece, r.offset, r.length), i * REQUEST_MESSAGE_BYTES);
    }
    return out;
  }

  /** Gives every outstanding request back to the picker (choked, not interested, snubbed). */
  abort(picker: PiecePicker | undefined): BlockRequest[] {
    return picker?.abortAll(this.#id) ?? [];
  }

  /**
   * The request timeout: returns the requests to cancel when nothing arrived for
   * `requestTimeoutMs` while some were outstanding (given back to the picker already).
   */
  timeout(
    picker: PiecePicker | undefined,
    now: number,
    limits: PeerLimits,
    peerChoking: boolean,
  ): BlockRequest[] {
    if (picker === undefined || picker.outstanding(this.#id) === 0) {
      this.#lastBlockAt = now;
      return [];
    }
    if (now - this.#lastBlockAt < limits.requestTimeoutMs) return [];
    // Unchoked and silent: snubbed. Choked (fast extension, requests kept until rejected):
    // not its fault, but the requests go elsewhere all the same.
    if (!peerChoking) this.#snubbed = true;
    this.#lastBlockAt = now;
    return this.abort(picker);
  }
}
