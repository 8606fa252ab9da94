/**
 * How a piece is checked: an incremental hash fed the piece's bytes in order, then compared with
 * what the metainfo says. v1 torrents use SHA-1 over the piece (BEP 3, this file), v2 torrents
 * the merkle root of the piece's 16 KiB blocks (BEP 52, ./v2-verify.ts), hybrids both.
 */
import * as crypto from 'node:crypto';

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
    return new Sha1Hash();
  }

  check(piece: number, hash: PieceHash): boolean {
    const digest = (hash as Sha1Hash).digest();
    const base = piece * 20;
    for (let i = 0; i < 20; i++) if (digest[i] !== this.#hashes[base + i]) return false;
    return true;
  }

  known(): boolean {
    return true;
  }
}

/** `crypto.hash` (Node 20.12+): a one-shot digest without a `Hash` object. */
const oneShot = (
  crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }
).hash;
const EMPTY = new Uint8Array(0);

/**
 * SHA-1 of a piece fed block by block. A piece that arrives as one block (16 KiB pieces: every
 * piece) is hashed in one shot at `digest`, without a native `Hash` object per piece that only
 * the garbage collector frees (issue #22); the second block starts an incremental hash.
 */
class Sha1Hash implements PieceHash {
  #first: Uint8Array | undefined;
  #hash: crypto.Hash | undefined;

  update(bytes: Uint8Array): void {
    if (this.#hash !== undefined) {
      this.#hash.update(bytes);
    } else if (this.#first === undefined) {
      this.#first = bytes;
    } else {
      this.#hash = crypto.createHash('sha1').update(this.#first).update(bytes);
      this.#first = undefined;
    }
  }

  digest(): Uint8Array {
    if (this.#hash !== undefined) return this.#hash.digest();
    const bytes = this.#first ?? EMPTY;
    return oneShot !== undefined
      ? oneShot('sha1', bytes, 'buffer')
      : crypto.createHash('sha1').update(bytes).digest();
  }
}
