/**
 * BEP 52 hash requests for the base layer (base layer 0: one hash per 16 KiB block). We keep no
 * block hashes: they are computed from the pieces on disk when asked, for pieces we have, and
 * proven against the piece layer before they are sent.
 *
 * A request of `length` leaves at `index` lies in a *span*: the aligned subtree of
 * max(length, leaves per piece) leaves that holds it, made of whole pieces. The span's leaves give
 * the requested hashes and the uncles up to the span's root; the piece layer's tree gives the
 * uncles above (for a file of at most one piece the span is the file's whole tree).
 */
import type { Bitfield } from '../bitfield';
import { MERKLE_BLOCK_LENGTH, nextPowerOfTwo } from '../metainfo/merkle';
import { leafHashes, MerkleTree } from '../metainfo/merkle-tree';
import type { HashesMessage, HashRequestMessage } from '../wire/hashes';
import { unclesInAnswer } from '../wire/hashes';
import type { PieceLayers, V2File } from './piece-layers';

/** The pieces to read for a base-layer hash request, and where its span lies. */
export interface LeafHashPlan {
  readonly file: V2File;
  /** Torrent-wide indices of the span's pieces that hold file data, in order. */
  readonly pieces: readonly number[];
  /** First leaf of the span in the file's leaf layer. */
  readonly spanStart: number;
  /** Leaves in the span (a power of two, padding included). */
  readonly spanLeaves: number;
}

/**
 * What answering `request` (base layer 0) takes, or undefined when it must be rejected: the
 * file is unknown or its piece layer is not held, the range lies outside the file's tree, or a
 * piece of the span is not one we have (BEP 52: "Clients must be able to service requests for
 * hash blocks covering pieces which they have announced").
 */
export function planLeafHashes(
  layers: PieceLayers,
  have: Bitfield,
  request: HashRequestMessage,
): LeafHashPlan | undefined {
  const file = layers.fileOf(request.piecesRoot);
  if (request.baseLayer !== 0 || file === undefined || !layers.complete(file)) return undefined;
  const perPiece = 2 ** layers.pieceLayer;
  const pieceCount = layers.pieceCount(file);
  const blocks = Math.ceil(file.length / MERKLE_BLOCK_LENGTH);
  const width = pieceCount === 1 ? nextPowerOfTwo(blocks) : nextPowerOfTwo(pieceCount) * perPiece;
  if (request.index + request.length > width) return undefined;
  const spanLeaves = pieceCount === 1 ? width : Math.max(request.length, perPiece);
  const spanStart = Math.floor(request.index / spanLeaves) * spanLeaves;
  const first = spanStart / perPiece;
  const end = Math.min(pieceCount, Math.ceil((spanStart + spanLeaves) / perPiece));
  if (first >= end) return undefined; // all padding past the file's end
  const base = file.offset / layers.pieceLength;
  const pieces: number[] = [];
  for (let p = first; p < end; p++) {
    if (!have.has(base + p)) return undefined;
    pieces.push(base + p);
  }
  return { file, pieces, spanStart, spanLeaves };
}

/**
 * The `hashes` answer to `request` from the span's piece data (`data[i]` the bytes of
 * `plan.pieces[i]`), or undefined when the data does not hash to what the piece layer says (the
 * file changed on disk: reject rather than send hashes that fail).
 */
export function answerLeafHashes(
  layers: PieceLayers,
  request: HashRequestMessage,
  plan: LeafHashPlan,
  data: readonly Uint8Array[],
): HashesMessage | undefined {
  const { file, spanStart, spanLeaves } = plan;
  if (data.length !== plan.pieces.length) return undefined;
  // Each piece but a file's last is whole: its leaves are contiguous; the rest is zero padding.
  const span = new MerkleTree(Buffer.concat(data.map((d) => leafHashes(d))), spanLeaves);
  const pieceTree = layers.tree(file);
  const spanLayer = Math.log2(spanLeaves);
  let expected: Uint8Array;
  let above: Uint8Array[] = [];
  if (pieceTree === undefined) {
    expected = file.piecesRoot; // a file of one piece: the span is its whole tree
  } else {
    const layer = spanLayer - layers.pieceLayer;
    expected = pieceTree.node(layer, spanStart / spanLeaves);
    above = pieceTree.proof(layer, spanStart / spanLeaves);
  }
  if (Buffer.compare(span.root, expected) !== 0) return undefined;
  const at = request.index - spanStart;
  const hashes = Array.from({ length: request.length }, (_, i) => span.node(0, at + i));
  const uncles = [...span.proof(Math.log2(request.length), at / request.length), ...above].slice(
    0,
    unclesInAnswer(request.length, request.proofLayers),
  );
  const { type: _type, ...fields } = request;
  return { type: 'hashes', ...fields, hashes, uncles };
}
