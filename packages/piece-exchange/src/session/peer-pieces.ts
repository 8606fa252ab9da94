/**
 * What a peer has (BEP 3 `bitfield` and `have`, BEP 6 `have all` / `have none`), kept in step
 * with the picker's availability counts, and how many of those pieces we miss: the count our
 * interest follows (BEP 3: interested while the peer has a piece we do not).
 *
 * Before the piece count is known (a magnet whose metadata is still being fetched) the
 * announcements are remembered and applied once the content is ready.
 */
import { Bitfield } from '../bitfield';
import { WireError } from '../errors';
import type { SessionContent } from './peer-host';
import { MAX_EARLY_HAVES } from './peer-limits';

export class PeerPieces {
  #pieces: Bitfield | undefined;
  /** Bitfield / have_all / have_none / haves received before the piece count was known. */
  #early: { all?: boolean; bitfield?: Uint8Array; haves: number[] } = { haves: [] };
  /** Pieces the peer has that we miss and want (priority above 0): interest without a scan. */
  #interesting = 0;

  /** The peer's pieces, once the piece count is known. */
  get bitfield(): Bitfield | undefined {
    return this.#pieces;
  }

  /** How many of the peer's pieces we do not have. */
  get interesting(): number {
    return this.#interesting;
  }

  get isSeed(): boolean {
    return this.#pieces?.complete ?? this.#early.all === true;
  }

  /** The handshake is done and the piece count known: the peer has nothing until it says so. */
  start(content: SessionContent | undefined): void {
    if (content !== undefined) this.#pieces = new Bitfield(content.geometry.pieceCount);
  }

  /** BEP 3 `have`. Returns true when it is news (availability changed). */
  have(index: number, content: SessionContent | undefined): boolean {
    if (content === undefined || this.#pieces === undefined) {
      this.#early.haves.push(index);
      if (this.#early.haves.length > MAX_EARLY_HAVES)
        throw new WireError('MESSAGE_TOO_LARGE', 'too many haves');
      return false;
    }
    if (!this.#pieces.set(index)) return false;
    content.picker.incrementAvailability(index);
    if (wanted(content, index)) this.#interesting++;
    return true;
  }

  /**
   * `bitfield` (bytes) or `have all`/`have none` (all = true/false). aria2 sends these in the
   * middle of a connection too (not allowed by BEP 3/6, tolerated by libtorrent): the new set
   * replaces the old one. Returns true when applied (false: remembered for later).
   */
  replace(
    bytes: Uint8Array | undefined,
    all: boolean,
    content: SessionContent | undefined,
  ): boolean {
    if (content === undefined) {
      this.#early = { haves: [], ...(bytes ? { bitfield: bytes.slice() } : { all }) };
      return false;
    }
    const count = content.geometry.pieceCount;
    const next = bytes
      ? Bitfield.fromBytes(bytes, count)
      : all
        ? Bitfield.full(count)
        : new Bitfield(count);
    if (this.#pieces !== undefined) content.picker.removeAvailability(this.#pieces);
    this.#pieces = next;
    content.picker.addAvailability(next);
    this.recount(content);
    return true;
  }

  /** Counts the interesting pieces again (after piece priorities changed: file selection). */
  recount(content: SessionContent): void {
    let n = 0;
    if (this.#pieces !== undefined)
      for (const i of this.#pieces.indices()) if (wanted(content, i)) n++;
    this.#interesting = n;
  }

  /** The content became known: applies what the peer announced before (bitfield, then haves). */
  applyEarly(content: SessionContent): void {
    const early = this.#early;
    this.#early = { haves: [] };
    if (early.bitfield !== undefined) this.replace(early.bitfield, false, content);
    else this.replace(undefined, early.all === true, content);
    for (const index of early.haves) {
      if (index < content.geometry.pieceCount) this.have(index, content);
    }
  }

  /**
   * We verified `piece`. Returns true when the peer has it (one fewer interesting piece when
   * it was `counted`: wanted, i.e. of priority above 0).
   */
  weHave(piece: number, counted = true): boolean {
    if (!this.#pieces?.has(piece)) return false;
    if (counted) this.#interesting--;
    return true;
  }
}

/** A piece we miss and want (priority above 0: its file is selected). */
function wanted(content: SessionContent, piece: number): boolean {
  return !content.have.has(piece) && content.picker.priorityOf(piece) > 0;
}
