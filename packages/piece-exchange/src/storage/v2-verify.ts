/**
 * BEP 52 piece verification. A v2 piece lies inside one file (files start on piece boundaries);
 * its hash is the root of the merkle subtree over its 16 KiB blocks. For a file larger than one
 * piece the subtree has piece length / 16 KiB leaves (the last piece padded with zero hashes) and
 * its root is in the file's piece layer; a smaller file's only piece is the whole tree, padded to
 * a power of two of leaves, and its root is the file's `pieces root`. Hybrids are checked both
 * ways (SHA-1 and merkle): a piece that passes one and fails the other means the torrent's v1 and
 * v2 halves describe different data, which is reported, not blamed on the peers.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  HASH_LENGTH_V2,
  MERKLE_BLOCK_LENGTH,
  nextPowerOfTwo,
  sha256,
  zeroSubtreeRoot,
} from '../metainfo/merkle';
import type { PieceLayers, V2File } from '../v2/piece-layers';
import type { PieceHash, PieceHashing, Sha1PieceHashing } from './piece-hashing';
import { StorageError } from './storage-error';

/** Incremental merkle root of `dataLength` bytes in 16 KiB leaves, padded to `leafCount`. */
export class MerkleHasher implements PieceHash {
  readonly #leafCount: number;
  #remaining: number;
  #block: Hash = createHash('sha256');
  #inBlock = 0;
  readonly #leaves: Uint8Array[] = [];

  constructor(dataLength: number, leafCount: number) {
    this.#remaining = dataLength;
    this.#leafCount = leafCount;
  }

  update(bytes: Uint8Array): void {
    let at = 0;
    const end = Math.min(bytes.length, this.#remaining);
    while (at < end) {
      if (this.#inBlock === 0 && end - at >= MERKLE_BLOCK_LENGTH) {
        // A whole 16 KiB block in hand (the usual case): one-shot hash.
        this.#leaves.push(sha256(bytes.subarray(at, at + MERKLE_BLOCK_LENGTH)));
        at += MERKLE_BLOCK_LENGTH;
        continue;
      }
      const take = Math.min(MERKLE_BLOCK_LENGTH - this.#inBlock, end - at);
      this.#block.update(bytes.subarray(at, at + take));
      this.#inBlock += take;
      at += take;
      if (this.#inBlock === MERKLE_BLOCK_LENGTH) this.#finishBlock();
    }
    this.#remaining -= end;
  }

  /** The subtree root (call once, after all the bytes). */
  digest(): Uint8Array {
    if (this.#inBlock > 0) this.#finishBlock();
    let layer = this.#leaves;
    let pad: Uint8Array = zeroSubtreeRoot(0);
    for (let width = this.#leafCount; width > 1; width /= 2) {
      const next: Uint8Array[] = [];
      for (let i = 0; i < layer.length; i += 2) next.push(sha256(layer[i]!, layer[i + 1] ?? pad));
      layer = next;
      pad = sha256(pad, pad);
    }
    return layer[0] ?? pad;
  }

  #finishBlock(): void {
    this.#leaves.push(this.#block.digest());
    this.#block = createHash('sha256');
    this.#inBlock = 0;
  }
}

interface V2Piece {
  readonly file: V2File;
  /** Piece index inside the file. */
  readonly index: number;
  /** Bytes of the file in this piece (the rest of the piece is padding). */
  readonly dataLength: number;
  readonly leafCount: number;
}

/** Maps every piece of the piece space onto its file (undefined: padding only). */
function v2Pieces(layers: PieceLayers, pieceCount: number): (V2Piece | undefined)[] {
  const pieces: (V2Piece | undefined)[] = new Array(pieceCount).fill(undefined);
  const pieceLength = layers.pieceLength;
  for (const file of layers.files) {
    const count = layers.pieceCount(file);
    const first = file.offset / pieceLength;
    const single = file.length <= pieceLength;
    for (let index = 0; index < count && first + index < pieceCount; index++) {
      const dataLength = Math.min(pieceLength, file.length - index * pieceLength);
      const leafCount = single
        ? nextPowerOfTwo(Math.ceil(file.length / MERKLE_BLOCK_LENGTH))
        : pieceLength / MERKLE_BLOCK_LENGTH;
      pieces[first + index] = { file, index, dataLength, leafCount };
    }
  }
  return pieces;
}

/** BEP 52 verification of v2-only torrents. */
export class MerklePieceHashing implements PieceHashing {
  readonly layers: PieceLayers;
  readonly #pieces: (V2Piece | undefined)[];

  constructor(layers: PieceLayers, pieceCount: number) {
    for (const file of layers.files) {
      if (file.offset % layers.pieceLength !== 0)
        throw new RangeError('v2 files must start on a piece boundary');
    }
    this.layers = layers;
    this.#pieces = v2Pieces(layers, pieceCount);
  }

  start(piece: number): MerkleHasher {
    const p = this.#pieces[piece];
    return new MerkleHasher(p?.dataLength ?? 0, p?.leafCount ?? 1);
  }

  check(piece: number, hash: PieceHash): boolean {
    const p = this.#pieces[piece];
    if (p === undefined) return false;
    const expected = this.layers.pieceHash(p.file, p.index);
    if (expected === undefined || expected.length !== HASH_LENGTH_V2) return false;
    return Buffer.compare((hash as MerkleHasher).digest(), expected) === 0;
  }

  known(piece: number): boolean {
    const p = this.#pieces[piece];
    return p !== undefined && this.layers.pieceHash(p.file, p.index) !== undefined;
  }

  /** The piece of the piece space where piece `index` of `file` is. */
  pieceOf(file: V2File, index: number): number {
    return file.offset / this.layers.pieceLength + index;
  }
}

class BothHashes implements PieceHash {
  constructor(
    readonly v1: PieceHash,
    readonly v2: PieceHash,
  ) {}

  update(bytes: Uint8Array): void {
    this.v1.update(bytes);
    this.v2.update(bytes);
  }
}

/** Hybrid torrents: SHA-1 and merkle, which must agree (BEP 52 "hybrid torrents"). */
export class HybridPieceHashing implements PieceHashing {
  readonly #v1: Sha1PieceHashing;
  readonly #v2: MerklePieceHashing;

  constructor(v1: Sha1PieceHashing, v2: MerklePieceHashing) {
    this.#v1 = v1;
    this.#v2 = v2;
  }

  start(piece: number): PieceHash {
    return new BothHashes(this.#v1.start(), this.#v2.start(piece));
  }

  check(piece: number, hash: PieceHash): boolean {
    const both = hash as BothHashes;
    const v1 = this.#v1.check(piece, both.v1);
    // A piece of padding only, or a v2 hash not known yet (magnet): SHA-1 alone decides.
    if (!this.#v2.known(piece)) return v1;
    const v2 = this.#v2.check(piece, both.v2);
    if (v1 !== v2) {
      throw new StorageError(
        'HASH_CONFLICT',
        `hybrid torrent: piece ${piece} matches its ${v1 ? 'v1' : 'v2'} hash but not its ${v1 ? 'v2' : 'v1'} hash (the torrent's v1 and v2 metadata disagree)`,
      );
    }
    return v1;
  }

  known(): boolean {
    return true;
  }
}
