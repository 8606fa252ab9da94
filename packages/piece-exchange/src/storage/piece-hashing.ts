/**
 * How a piece is checked: an incremental hash fed the piece's bytes in order, then compared with
 * what the metainfo says. v1 torrents use SHA-1 over the piece (BEP 3, this file), v2 torrents
 * the merkle root of the piece's 16 KiB blocks (BEP 52, ./v2-verify.ts), hybrids both.
 */
import { createHash, type Hash } from 'node:crypto';

/** The running hash of one piece. */
export interface PieceHash {
  update(bytes: Uint8Array): void;
}

export interface PieceHashing {
  /** A fresh hash for `piece`. */
  start(piece: number): PieceHash;
  /**
   * True when the finished hash matches the piece's expected hash. A hybrid whose v1 and v2
   * hashes disagree throws `StorageError` `HASH_CONFLICT` (the torrent itself is inconsistent).
   */
  check(piece: number, hash: PieceHash): boolean;
  /** False while the expected hash of `piece` is not known yet (a v2 magnet's piece layers). */
  known(piece: number): boolean;
}

/** BEP 3: `pieces` holds the 20-byte SHA-1 of every piece. */
export class Sha1PieceHashing implements PieceHashing {
  readonly #hashes: Uint8Array;

  constructor(pieceHashes: Uint8Array, pieceCount: number) {
    if (pieceHashes.length !== pieceCount * 20) {
      throw new RangeError('pieceHashes must hold 20 bytes per piece');
    }
    this.#hashes = pieceHashes;
  }

  start(): PieceHash {
    return createHash('sha1');
  }

  check(piece: number, hash: PieceHash): boolean {
    const digest = (hash as Hash).digest();
    const base = piece * 20;
    for (let i = 0; i < 20; i++) if (digest[i] !== this.#hashes[base + i]) return false;
    return true;
  }

  known(): boolean {
    return true;
  }
}
