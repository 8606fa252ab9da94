/**
 * Creating BEP 52 v2-only and hybrid .torrent files, laid out as libtorrent 2.0 lays them out so
 * that the same files, piece length and options give the same bytes and info-hashes:
 *
 * - files in `file tree` order (path elements compared as bytes, depth first), the order the v1
 *   `files` list of a hybrid repeats;
 * - per file a merkle tree of SHA-256 16 KiB leaf hashes (./merkle-tree.ts), its root as
 *   `pieces root` (none for an empty file), and for files larger than one piece the piece layer
 *   under the root's `piece layers` key;
 * - hybrids: BEP 47 pad files (`attr` `p`, path `.pad/<length>`) after every non-empty file of a
 *   multi-file torrent that does not end on a piece boundary, the last one included, so that each
 *   file starts a piece and the v1 SHA-1 pieces and the v2 pieces cover the same bytes.
 */

import { createHash, type Hash } from 'node:crypto';
import { type BencodeInput, type BencodeInputDict, encode } from '@peerkit/bencode';
import {
  type CreateTorrentOptions,
  checkElement,
  checkInput,
  chunksOf,
  invalid,
  PieceHasher,
  type TorrentInputFile,
} from './create';
import { HASH_LENGTH_V2, MERKLE_BLOCK_LENGTH } from './merkle';
import { MerkleTree } from './merkle-tree';
import { parseTorrent } from './parse';
import type { Metainfo } from './types';

export interface CreateTorrentV2Options extends Omit<CreateTorrentOptions, 'padFiles'> {
  /** Also write the v1 half (`pieces`, `files` with pad files): a hybrid torrent (BEP 52). */
  hybrid?: boolean;
}

export interface CreatedTorrentV2 {
  torrent: Uint8Array;
  metainfo: Metainfo;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** BEP 52 file tree order: path elements compared as UTF-8 bytes, element by element. */
function compareTreePaths(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = Buffer.compare(utf8(a[i]!), utf8(b[i]!));
    if (order !== 0) return order;
  }
  if (a.length !== b.length)
    throw invalid(`${a.join('/')} and ${b.join('/')}: a file where a directory is`);
  return 0;
}

/** Leaf hashes of one file's content, streamed (one 16 KiB block in memory at a time). */
class LeafHasher {
  readonly leaves: Uint8Array[] = [];
  #block: Hash = createHash('sha256');
  #filled = 0;

  update(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(MERKLE_BLOCK_LENGTH - this.#filled, bytes.length - at);
      this.#block.update(bytes.subarray(at, at + take));
      this.#filled += take;
      at += take;
      if (this.#filled === MERKLE_BLOCK_LENGTH) this.#finish();
    }
  }

  digest(): Uint8Array {
    if (this.#filled > 0) this.#finish();
    return Buffer.concat(this.leaves);
  }

  #finish(): void {
    this.leaves.push(this.#block.digest());
    this.#block = createHash('sha256');
    this.#filled = 0;
  }
}

/** The merkle tree of a file of `length` bytes with these leaf hashes (BEP 52). */
function fileTree(leaves: Uint8Array, length: number, pieceLength: number): MerkleTree {
  const blocks = leaves.length / HASH_LENGTH_V2;
  const pieceBlocks = pieceLength / MERKLE_BLOCK_LENGTH;
  let leafCount = 1;
  while (leafCount < blocks) leafCount *= 2;
  // A file larger than one piece: at least a whole piece subtree (its piece layer exists).
  if (length > pieceLength) leafCount = Math.max(leafCount, pieceBlocks);
  return new MerkleTree(leaves, leafCount);
}

/** Inserts `value` at `path` of the nested file tree. */
function place(tree: Map<Uint8Array, BencodeInput>, path: readonly string[], value: BencodeInput) {
  let node = tree;
  for (const element of path.slice(0, -1)) {
    const key = [...node.keys()].find((k) => Buffer.from(k).equals(utf8(element)));
    let child = key === undefined ? undefined : node.get(key);
    if (child === undefined) {
      child = new Map<Uint8Array, BencodeInput>();
      node.set(utf8(element), child);
    }
    node = child as Map<Uint8Array, BencodeInput>;
  }
  node.set(utf8(path[path.length - 1]!), new Map([[new Uint8Array(0), value]]));
}

/**
 * Creates a v2-only (or, with `hybrid`, a hybrid) .torrent from files, hashing their content.
 * Throws `MetainfoError` `INVALID_OPTIONS` for unusable input, like `createTorrent`.
 */
export async function createTorrentV2(
  input: readonly TorrentInputFile[],
  options: CreateTorrentV2Options = {},
): Promise<CreatedTorrentV2> {
  const { pieceLength } = checkInput(input, options.pieceLength);
  const files = [...input].sort((a, b) => compareTreePaths(a.path, b.path));
  const single = files.length === 1 && files[0]!.path.length === 1;
  const name = options.name ?? (single ? files[0]!.path[0]! : undefined);
  if (name === undefined) throw invalid('a multi-file torrent needs a name');
  checkElement(name);

  const v1 = options.hybrid ? new PieceHasher(pieceLength) : undefined;
  const tree = new Map<Uint8Array, BencodeInput>();
  const layers = new Map<Uint8Array, BencodeInput>();
  const v1Files: BencodeInputDict[] = [];
  for (const file of files) {
    const leaves = new LeafHasher();
    let read = 0;
    for await (const chunk of chunksOf(file.content)) {
      read += chunk.length;
      if (read > file.length) break;
      leaves.update(chunk);
      v1?.update(chunk);
    }
    if (read !== file.length) {
      throw invalid(
        `${file.path.join('/')} has ${read > file.length ? 'more' : read} bytes, expected ${file.length}`,
      );
    }
    const attr = `${file.executable ? 'x' : ''}${file.hidden ? 'h' : ''}` || undefined;
    const entry: Record<string, BencodeInput | undefined> = { attr, length: file.length };
    if (file.length > 0) {
      const merkle = fileTree(leaves.digest(), file.length, pieceLength);
      entry['pieces root'] = merkle.root;
      if (file.length > pieceLength) {
        const pieceLayer = Math.log2(pieceLength / MERKLE_BLOCK_LENGTH);
        const pieces = Math.ceil(file.length / pieceLength);
        layers.set(merkle.root, merkle.layerNodes(pieceLayer, 0, pieces));
      }
    }
    place(tree, single ? [name] : file.path, entry);
    v1Files.push({ attr, length: file.length, path: [...file.path] });
    // BEP 47 / BEP 52: pad to the next piece boundary so that the next file starts a piece.
    const tail = (pieceLength - (file.length % pieceLength)) % pieceLength;
    if (v1 !== undefined && !single && tail > 0) {
      v1.update(new Uint8Array(tail));
      v1Files.push({ attr: 'p', length: tail, path: ['.pad', String(tail)] });
    }
  }

  const info: BencodeInputDict = {
    'file tree': tree,
    'meta version': 2,
    name,
    'piece length': pieceLength,
    private: options.private ? 1 : undefined,
    ...(v1 !== undefined
      ? {
          pieces: v1.digest(),
          ...(single ? { length: files[0]!.length, attr: v1Files[0]!.attr } : { files: v1Files }),
        }
      : {}),
  };
  const tiers = (options.trackers ?? [])
    .map((t) => (typeof t === 'string' ? [t] : [...t]))
    .filter((t) => t.length > 0);
  const root: BencodeInputDict = {
    announce: tiers[0]?.[0],
    'announce-list': tiers.length > 1 || (tiers[0]?.length ?? 0) > 1 ? tiers : undefined,
    comment: options.comment,
    'created by': options.createdBy,
    'creation date': options.creationDate,
    info,
    nodes: options.nodes?.map((n) => [n.host, n.port]),
    // libtorrent writes the key even when no file is larger than a piece.
    'piece layers': layers,
    'url-list': options.urlList && options.urlList.length > 0 ? [...options.urlList] : undefined,
  };
  const torrent = encode(root);
  return { torrent, metainfo: parseTorrent(torrent) };
}
