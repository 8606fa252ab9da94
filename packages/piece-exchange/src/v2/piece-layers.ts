/**
 * BEP 52 piece layers of a torrent's files: for each file larger than one piece, the hashes of
 * its piece-sized subtrees (the `piece layers` of a .torrent, or fetched from peers with hash
 * requests when the torrent started from a magnet link). A file of at most one piece needs none:
 * its `pieces root` is its only piece hash.
 */
import {
  HASH_LENGTH_V2,
  MERKLE_BLOCK_LENGTH,
  nextPowerOfTwo,
  rootFromPieceLayer,
} from '../metainfo/merkle';
import { MerkleTree } from '../metainfo/merkle-tree';

/** A non-empty file of a v2 torrent, placed in the torrent's piece space. */
export interface V2File {
  /** Offset of its first byte in the piece space (a multiple of the piece length). */
  readonly offset: number;
  readonly length: number;
  /** BEP 52 `pieces root`. */
  readonly piecesRoot: Uint8Array;
}

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');

export class PieceLayers {
  readonly files: readonly V2File[];
  readonly pieceLength: number;
  /** Layer (tree height) of the piece hashes: log2(piece length / 16 KiB). */
  readonly pieceLayer: number;
  readonly #layers = new Map<string, Uint8Array>();
  readonly #trees = new Map<string, MerkleTree>();

  constructor(
    files: readonly V2File[],
    pieceLength: number,
    known?: ReadonlyMap<string, Uint8Array>,
  ) {
    this.files = files;
    this.pieceLength = pieceLength;
    this.pieceLayer = Math.log2(pieceLength / MERKLE_BLOCK_LENGTH);
    for (const file of files) {
      const layer = known?.get(hex(file.piecesRoot));
      if (layer !== undefined) this.#layers.set(hex(file.piecesRoot), layer);
    }
  }

  /** Pieces of `file`. */
  pieceCount(file: V2File): number {
    return Math.ceil(file.length / this.pieceLength);
  }

  /** The file whose pieces root is `root`. */
  fileOf(root: Uint8Array): V2File | undefined {
    const key = hex(root);
    return this.files.find((f) => hex(f.piecesRoot) === key);
  }

  /** The expected hash of piece `index` of `file`, or undefined while its layer is unknown. */
  pieceHash(file: V2File, index: number): Uint8Array | undefined {
    if (file.length <= this.pieceLength) return file.piecesRoot;
    const layer = this.#layers.get(hex(file.piecesRoot));
    return layer?.subarray(index * HASH_LENGTH_V2, (index + 1) * HASH_LENGTH_V2);
  }

  /** True when every piece hash of `file` is known. */
  complete(file: V2File): boolean {
    return file.length <= this.pieceLength || this.#layers.has(hex(file.piecesRoot));
  }

  /** Files whose piece layer is still unknown. */
  missing(): V2File[] {
    return this.files.filter((f) => !this.complete(f));
  }

  /**
   * Takes the piece layer of `file` (concatenated hashes, one per piece) once it hashes up to
   * the file's pieces root; false (and nothing kept) otherwise.
   */
  add(file: V2File, layer: Uint8Array): boolean {
    if (layer.length !== this.pieceCount(file) * HASH_LENGTH_V2) return false;
    const root = rootFromPieceLayer(layer, this.pieceLength);
    if (Buffer.compare(root, file.piecesRoot) !== 0) return false;
    this.#layers.set(hex(file.piecesRoot), layer);
    return true;
  }

  /**
   * The tree of `file` from its piece layer up (for answering hash requests), or undefined while
   * the layer is unknown. Built once per file, on first use.
   */
  tree(file: V2File): MerkleTree | undefined {
    const key = hex(file.piecesRoot);
    let tree = this.#trees.get(key);
    if (tree !== undefined) return tree;
    if (file.length <= this.pieceLength) return undefined;
    const layer = this.#layers.get(key);
    if (layer === undefined) return undefined;
    tree = new MerkleTree(layer, nextPowerOfTwo(this.pieceCount(file)), this.pieceLayer);
    this.#trees.set(key, tree);
    return tree;
  }

  /** The piece layers as the .torrent's `piece layers` holds them (hex root → hashes). */
  known(): Map<string, Uint8Array> {
    return new Map(this.#layers);
  }
}
