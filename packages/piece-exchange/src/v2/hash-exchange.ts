/**
 * BEP 52 hash exchange: answering a peer's hash requests from our piece layers, and fetching the
 * piece layers of a torrent that started from a magnet link (BEP 9 gives the info dictionary,
 * which holds only each file's `pieces root`; the piece layers come from peers, each answer
 * proven against the root by its uncle hashes).
 */
import { HASH_LENGTH_V2, nextPowerOfTwo } from '../metainfo/merkle';
import { rootFromProof, subtreeRoot } from '../metainfo/merkle-tree';
import {
  type HashesMessage,
  type HashRejectMessage,
  type HashRequestFields,
  type HashRequestMessage,
  MAX_HASH_REQUEST_LENGTH,
  unclesInAnswer,
} from '../wire/hashes';
import type { PieceLayers, V2File } from './piece-layers';

/**
 * The answer to a hash request: the base-layer hashes and the uncles up to the root that the
 * request's proof layers cover, or a reject when the file is unknown, its tree is not held, or
 * the range lies outside it. Only layers from the piece layer up are served (BEP 52: "Clients are
 * only required to support setting the base layer to the leaf and piece layers"; we keep no
 * leaf hashes).
 */
export function answerHashRequest(
  layers: PieceLayers | undefined,
  request: HashRequestMessage,
): HashesMessage | HashRejectMessage {
  const { type: _type, ...fields } = request;
  const reject: HashRejectMessage = { type: 'hashReject', ...fields };
  const file = layers?.fileOf(request.piecesRoot);
  const tree = file === undefined ? undefined : layers!.tree(file);
  if (layers === undefined || tree === undefined) return reject;
  const layer = request.baseLayer - layers.pieceLayer;
  if (layer < 0 || layer > tree.height) return reject;
  const width = tree.width(layer);
  if (request.index + request.length > width) return reject;
  const hashes = Array.from({ length: request.length }, (_, i) =>
    tree.node(layer, request.index + i),
  );
  const top = layer + Math.log2(request.length);
  const uncles = tree
    .proof(top, request.index / request.length)
    .slice(0, unclesInAnswer(request.length, request.proofLayers));
  return { type: 'hashes', ...fields, hashes, uncles };
}

/** The request for the hashes of `file`'s piece layer from piece `index` on (one chunk). */
export function pieceLayerRequest(
  layers: PieceLayers,
  file: V2File,
  index: number,
): HashRequestFields {
  const pieces = layers.pieceCount(file);
  const height = Math.log2(nextPowerOfTwo(pieces));
  const length = Math.max(2, Math.min(MAX_HASH_REQUEST_LENGTH, nextPowerOfTwo(pieces)));
  // Uncles from the chunk's subtree root up to the file's root (see `unclesInAnswer`).
  const proofLayers = Math.max(0, height - 1);
  return { piecesRoot: file.piecesRoot, baseLayer: layers.pieceLayer, index, length, proofLayers };
}

/** True when `message`'s hashes and uncles hash up to `root`. */
export function hashesProven(message: HashesMessage, root: Uint8Array): boolean {
  const top = subtreeRoot(Buffer.concat(message.hashes));
  const computed = rootFromProof(top, message.index / message.length, message.uncles);
  return Buffer.compare(computed, root) === 0;
}

interface Pending {
  readonly peer: number;
  readonly sentAt: number;
}

/**
 * Fetches the missing piece layers of a v2 torrent, chunk by chunk (at most 512 hashes each),
 * one peer per chunk, re-asking another peer after a reject, a bad proof or `timeoutMs`. Pure:
 * the caller sends the requests it returns and feeds the answers.
 */
export class PieceLayerFetcher {
  readonly #layers: PieceLayers;
  readonly #timeoutMs: number;
  /** Received chunks per file (hex root → index → hashes). */
  readonly #chunks = new Map<V2File, Map<number, Uint8Array>>();
  readonly #pending = new Map<string, Pending>();
  /** Peers that failed a chunk: not asked for it again. */
  readonly #failed = new Map<string, Set<number>>();

  constructor(layers: PieceLayers, timeoutMs = 30_000) {
    this.#layers = layers;
    this.#timeoutMs = timeoutMs;
  }

  get complete(): boolean {
    return this.#layers.missing().length === 0;
  }

  /** The next request to send to `peer`, if a chunk is left that nobody is being asked. */
  next(peer: number, now: number): HashRequestFields | undefined {
    for (const file of this.#layers.missing()) {
      const first = pieceLayerRequest(this.#layers, file, 0);
      const have = this.#chunks.get(file);
      for (let index = 0; index < this.#layers.pieceCount(file); index += first.length) {
        if (have?.has(index)) continue;
        const key = chunkKey(file, index);
        const pending = this.#pending.get(key);
        if (pending !== undefined && now - pending.sentAt < this.#timeoutMs) continue;
        if (this.#failed.get(key)?.has(peer)) continue;
        this.#pending.set(key, { peer, sentAt: now });
        return { ...first, index };
      }
    }
    return undefined;
  }

  /**
   * An answer from `peer`. Returns `proven` (kept; `complete` tells whether layers are all
   * there), `rejected` (another peer will be asked), `bad` (hashes that do not prove against the
   * root: the peer lies) or `unexpected` (not something we asked it).
   */
  receive(
    peer: number,
    message: HashesMessage | HashRejectMessage,
  ): 'proven' | 'rejected' | 'bad' | 'unexpected' {
    const file = this.#layers.fileOf(message.piecesRoot);
    if (file === undefined || message.baseLayer !== this.#layers.pieceLayer) return 'unexpected';
    const key = chunkKey(file, message.index);
    if (this.#pending.get(key)?.peer !== peer) return 'unexpected';
    this.#pending.delete(key);
    if (message.type === 'hashReject' || !hashesProven(message, file.piecesRoot)) {
      const failed = this.#failed.get(key) ?? new Set<number>();
      this.#failed.set(key, failed.add(peer));
      return message.type === 'hashReject' ? 'rejected' : 'bad';
    }
    const chunks = this.#chunks.get(file) ?? new Map<number, Uint8Array>();
    this.#chunks.set(file, chunks.set(message.index, Buffer.concat(message.hashes)));
    const pieces = this.#layers.pieceCount(file);
    const length = message.length;
    let got = 0;
    for (let index = 0; index < pieces; index += length) if (chunks.has(index)) got++;
    if (got === Math.ceil(pieces / length)) {
      const all = Buffer.concat([...chunks.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]));
      this.#layers.add(file, all.subarray(0, pieces * HASH_LENGTH_V2));
      this.#chunks.delete(file);
    }
    return 'proven';
  }

  /** A peer left: its pending chunks go to others. */
  forget(peer: number): void {
    for (const [key, pending] of this.#pending)
      if (pending.peer === peer) this.#pending.delete(key);
  }
}

function chunkKey(file: V2File, index: number): string {
  return `${Buffer.from(file.piecesRoot).toString('hex')}:${index}`;
}
