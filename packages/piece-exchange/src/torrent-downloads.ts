/**
 * The download side of a torrent: each block a peer sends is checked against the picker (an
 * unrequested or duplicate block is wasted), the same block still outstanding with other peers
 * is cancelled (endgame), and the block is written to verified storage, which answers with the
 * piece's hash verdict once its last block is in (BEP 3: a piece that fails is discarded and
 * fetched again). Remembers which peers sent blocks of each piece, for the `piece` event and
 * for trust.
 */
import type { Content } from './session/peer-host';
import type { PeerSession } from './session/peer-session';
import type { PieceCheck } from './storage/piece-store';

export interface DownloadsHost {
  /** The connected peers (to cancel a block that arrived from another). */
  peer(id: number): PeerSession | undefined;
  /** A piece's hash check is done: `ok` or failed; `senders` sent its accepted blocks. */
  pieceChecked(piece: number, ok: boolean, senders: ReadonlyMap<PeerSession, number>): void;
  /** Writing a block failed (disk full, I/O error). */
  storageFailed(error: Error): void;
  /** False once the torrent is closed: late verdicts are dropped. */
  active(): boolean;
}

export class Downloads {
  readonly #host: DownloadsHost;
  /** Per piece being downloaded: the peers whose blocks were accepted, and how many. */
  readonly #contributors = new Map<number, Map<PeerSession, number>>();
  #downloaded = 0;
  #wasted = 0;
  #hashFailures = 0;

  constructor(host: DownloadsHost) {
    this.#host = host;
  }

  /** Bytes of accepted blocks received. */
  get downloaded(): number {
    return this.#downloaded;
  }

  /** Bytes received and dropped (duplicates, unsolicited, failed pieces). */
  get wasted(): number {
    return this.#wasted;
  }

  get hashFailures(): number {
    return this.#hashFailures;
  }

  /** A block of the right length arrived from `peer`. */
  block(
    content: Content,
    peer: PeerSession,
    piece: number,
    offset: number,
    block: Uint8Array,
  ): void {
    const result = content.picker.received(peer.id, piece, offset);
    if (!result.accepted) {
      this.#wasted += block.length;
      return;
    }
    this.#downloaded += block.length;
    for (const other of result.cancel) {
      this.#host.peer(other)?.sendCancel({ piece, offset, length: block.length });
    }
    let senders = this.#contributors.get(piece);
    if (senders === undefined) {
      senders = new Map();
      this.#contributors.set(piece, senders);
    }
    senders.set(peer, (senders.get(peer) ?? 0) + 1);
    // No promise for a block that does not complete its piece (one per piece, issue #22).
    let check: Promise<PieceCheck> | undefined;
    try {
      check = content.store.receiveBlock(piece, offset, block);
    } catch (error) {
      check = Promise.reject(error); // handled after this message, as a failed write is
    }
    check?.then(
      (result) => this.#checked(content, result.piece, result.ok),
      (error: unknown) => this.#storageFailed(content, piece, error),
    );
  }

  /** The piece is not on disk: forget its blocks so that it is fetched again on resume(). */
  #storageFailed(content: Content, piece: number, error: unknown): void {
    content.picker.pieceFailed(piece);
    content.store.discardPiece(piece);
    this.#contributors.delete(piece);
    this.#host.storageFailed(error instanceof Error ? error : new Error(String(error)));
  }

  #checked(content: Content, piece: number, ok: boolean): void {
    if (!this.#host.active()) return;
    const senders = this.#contributors.get(piece) ?? new Map<PeerSession, number>();
    this.#contributors.delete(piece);
    if (!ok) {
      // BEP 3: a piece that fails its hash is discarded and downloaded again.
      this.#hashFailures++;
      this.#wasted += content.store.layout.pieceSize(piece);
      content.picker.pieceFailed(piece);
      content.store.discardPiece(piece);
    }
    this.#host.pieceChecked(piece, ok, senders);
  }
}
