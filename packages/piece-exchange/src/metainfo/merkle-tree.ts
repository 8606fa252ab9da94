/**
 * BEP 52 per-file merkle trees: the leaves are SHA-256 hashes of the file's 16 KiB blocks (the
 * last one possibly short), the tree is padded to a power of two with all-zero leaf hashes, and
 * each interior node is SHA-256(left || right). Layer 0 holds the leaves; the piece layer is
 * layer log2(piece length / 16 KiB); the last layer holds the `pieces root`.
 *
 * Proofs are "uncle hashes" (BEP 52 "hashes" message): the siblings of a node's ancestors, from
 * the lowest up, which with the node rebuild the root.
 */
import {
  HASH_LENGTH_V2,
  MERKLE_BLOCK_LENGTH,
  nextPowerOfTwo,
  sha256,
  zeroSubtreeRoot,
} from './merkle';

/** SHA-256 of each 16 KiB block of `data` (BEP 52 leaf hashes), concatenated. */
export function leafHashes(data: Uint8Array): Uint8Array {
  const count = Math.ceil(data.length / MERKLE_BLOCK_LENGTH);
  const out = new Uint8Array(count * HASH_LENGTH_V2);
  for (let i = 0; i < count; i++) {
    const block = data.subarray(i * MERKLE_BLOCK_LENGTH, (i + 1) * MERKLE_BLOCK_LENGTH);
    out.set(sha256(block), i * HASH_LENGTH_V2);
  }
  return out;
}

/** Hashes of one layer: the node at `index`, or the padding hash beyond the real nodes. */
function nodeAt(layer: Uint8Array, index: number, pad: Uint8Array): Uint8Array {
  const at = index * HASH_LENGTH_V2;
  return at < layer.length ? layer.subarray(at, at + HASH_LENGTH_V2) : pad;
}

/**
 * The layer above `layer` (concatenated 32-byte nodes, the rest implied `pad`): only the nodes
 * with at least one real child are stored, the others equal SHA-256(pad || pad).
 */
function parentLayer(layer: Uint8Array, pad: Uint8Array): Uint8Array {
  const nodes = layer.length / HASH_LENGTH_V2;
  const parents = Math.ceil(nodes / 2);
  const out = new Uint8Array(parents * HASH_LENGTH_V2);
  for (let i = 0; i < parents; i++) {
    out.set(sha256(nodeAt(layer, 2 * i, pad), nodeAt(layer, 2 * i + 1, pad)), i * HASH_LENGTH_V2);
  }
  return out;
}

/**
 * A whole merkle tree over `leafCount` leaves (a power of two), of which the first ones are
 * given and the rest are all-zero. Only the real nodes are stored: O(leaves) memory.
 */
export class MerkleTree {
  /** Stored nodes of each layer, layer 0 = leaves. */
  readonly layers: Uint8Array[];
  readonly leafCount: number;
  /** log2(leafCount): the root's layer. */
  readonly height: number;

  /** Tree layer of `layers[0]` (0 for a tree built from leaf hashes, more from a piece layer). */
  readonly baseLayer: number;

  /**
   * `leaves`: the given nodes of the lowest layer, `baseLayer` layers above the block hashes (a
   * tree built from a piece layer has baseLayer log2(piece length / 16 KiB)); `leafCount` of them
   * counting the padding.
   */
  constructor(
    leaves: Uint8Array,
    leafCount = nextPowerOfTwo(leaves.length / HASH_LENGTH_V2),
    baseLayer = 0,
  ) {
    if (leaves.length % HASH_LENGTH_V2 !== 0) throw new RangeError('leaves must be 32-byte hashes');
    if (leafCount < leaves.length / HASH_LENGTH_V2 || (leafCount & (leafCount - 1)) !== 0)
      throw new RangeError('leafCount must be a power of two holding every leaf');
    this.leafCount = leafCount;
    this.baseLayer = baseLayer;
    this.height = Math.log2(leafCount);
    this.layers = [leaves];
    for (let h = 0; h < this.height; h++)
      this.layers.push(parentLayer(this.layers[h]!, zeroSubtreeRoot(baseLayer + h)));
  }

  /** The tree of a file's bytes (for a file larger than one piece, `leafCount` ≥ a piece). */
  static ofData(data: Uint8Array, minLeaves = 1): MerkleTree {
    const leaves = leafHashes(data);
    return new MerkleTree(
      leaves,
      Math.max(nextPowerOfTwo(leaves.length / HASH_LENGTH_V2), nextPowerOfTwo(minLeaves)),
    );
  }

  get root(): Uint8Array {
    return this.node(this.height, 0);
  }

  /** Number of nodes in layer `layer`, padding included. */
  width(layer: number): number {
    return this.leafCount / 2 ** layer;
  }

  /**
   * Node `index` of layer `layer`, counted from `layers[0]` (padding nodes are roots of all-zero
   * subtrees).
   */
  node(layer: number, index: number): Uint8Array {
    if (layer < 0 || layer > this.height || index < 0 || index >= this.width(layer))
      throw new RangeError(`no node ${index} in layer ${layer}`);
    return nodeAt(this.layers[layer]!, index, zeroSubtreeRoot(this.baseLayer + layer));
  }

  /**
   * `count` nodes of layer `layer` from `index`, padding included (a piece layer of a file is
   * `layerNodes(pieceLayer, 0, pieces)`).
   */
  layerNodes(layer: number, index: number, count: number): Uint8Array {
    const out = new Uint8Array(count * HASH_LENGTH_V2);
    for (let i = 0; i < count; i++) out.set(this.node(layer, index + i), i * HASH_LENGTH_V2);
    return out;
  }

  /** Uncle hashes of node `index` of layer `layer`, from its sibling up to the root's children. */
  proof(layer: number, index: number): Uint8Array[] {
    const uncles: Uint8Array[] = [];
    for (let h = layer, i = index; h < this.height; h++, i >>= 1) uncles.push(this.node(h, i ^ 1));
    return uncles;
  }
}

/**
 * The root that node `index` (`node`) implies with its `uncles` (the lowest first): each step
 * hashes the node with its sibling, the node on the left when its index is even.
 */
export function rootFromProof(
  node: Uint8Array,
  index: number,
  uncles: readonly Uint8Array[],
): Uint8Array {
  let hash = node;
  let i = index;
  for (const uncle of uncles) {
    hash = i % 2 === 0 ? sha256(hash, uncle) : sha256(uncle, hash);
    i >>= 1;
  }
  return hash;
}

/** True when `node` at `index` with `uncles` hashes up to `root`. */
export function verifyProof(
  node: Uint8Array,
  index: number,
  uncles: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  return Buffer.compare(rootFromProof(node, index, uncles), root) === 0;
}

/**
 * The root of a run of nodes of one layer (`nodes`: concatenated, a power of two of them): the
 * subtree they form. With its uncles it proves the whole run (BEP 52 "hashes").
 */
export function subtreeRoot(nodes: Uint8Array): Uint8Array {
  const count = nodes.length / HASH_LENGTH_V2;
  if (count === 0 || (count & (count - 1)) !== 0)
    throw new RangeError('a subtree needs a power of two of nodes');
  let layer = nodes;
  while (layer.length > HASH_LENGTH_V2) layer = parentLayer(layer, new Uint8Array(0));
  return layer;
}
