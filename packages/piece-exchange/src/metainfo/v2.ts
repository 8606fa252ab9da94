/**
 * BEP 52 (v2) parts of the info dictionary: the `file tree` and the `piece layers`.
 */
import {
  type BencodeDict,
  type BencodeValue,
  binaryToBytes,
  isBencodeDict,
} from '@peerkit/bencode';
import { toHex } from '@peerkit/transport';
import { MetainfoError } from '../errors';
import { HASH_LENGTH_V2, rootFromPieceLayer } from './merkle';
import { sanitizePath } from './path';

/** Largest v2 file: 2^43 bytes (2^29 blocks of 16 KiB: what a 32-bit merkle tree index holds). */
export const MAX_V2_FILE_LENGTH = 2 ** 43;

export interface V2FileEntry {
  /** Raw path elements (binary strings, as the keys of the file tree). */
  rawPath: string[];
  /** Sanitised path elements, relative to the torrent root. */
  path: string[];
  length: number;
  attr: string;
  piecesRoot?: Uint8Array;
  symlink?: string[];
}

const latin1 = (value: Uint8Array) =>
  Buffer.from(value.buffer, value.byteOffset, value.length).toString('latin1');

function fileParseFailed(message: string): MetainfoError {
  return new MetainfoError('FILE_PARSE_FAILED', message);
}

/** Keys of a decoded dictionary in raw byte order (binary strings sort like their bytes). */
function sortedKeys(dict: BencodeDict): string[] {
  return Object.keys(dict).sort();
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** Reads a BEP 47 `symlink path` list; a non-string element is an invalid name. */
export function readSymlinkPath(value: BencodeValue | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((e): e is Uint8Array => e instanceof Uint8Array)) {
    throw new MetainfoError('INVALID_NAME', "invalid 'symlink path' (not a list of strings)");
  }
  return sanitizePath(value);
}

function readFile(node: BencodeDict, rawPath: string[]): V2FileEntry {
  const length = node.length;
  if (
    typeof length !== 'number' ||
    !Number.isInteger(length) ||
    length < 0 ||
    length > MAX_V2_FILE_LENGTH
  ) {
    throw new MetainfoError('INVALID_LENGTH', `invalid length of file ${rawPath.join('/')}`);
  }
  const attr = node.attr instanceof Uint8Array ? latin1(node.attr) : '';
  const entry: V2FileEntry = {
    rawPath,
    path: sanitizePath(rawPath.map((p) => binaryToBytes(p) ?? new Uint8Array())),
    length,
    attr,
  };
  if (entry.path.length === 0) entry.path = ['_'];
  if (length > 0) {
    // BEP 52: "pieces root ... For non-empty files this is the root hash of a merkle tree".
    const root = node['pieces root'];
    if (!(root instanceof Uint8Array) || root.length !== HASH_LENGTH_V2 || isZero(root)) {
      throw new MetainfoError(
        'MISSING_PIECES_ROOT',
        `file ${rawPath.join('/')} has no pieces root`,
      );
    }
    entry.piecesRoot = root;
  }
  if (attr.includes('l')) entry.symlink = readSymlinkPath(node['symlink path']);
  return entry;
}

/**
 * Walks a BEP 52 `file tree` depth first in key order. A file is a node `{"": {length, pieces
 * root, attr}}`; every other node is a directory. Throws FILE_PARSE_FAILED for anything else
 * (an empty name, a non-dictionary node, a root that is itself a file).
 */
export function parseFileTree(tree: BencodeValue | undefined, maxFiles: number): V2FileEntry[] {
  if (!isBencodeDict(tree)) throw fileParseFailed("missing or invalid 'file tree'");
  const files: V2FileEntry[] = [];
  const walk = (node: BencodeDict, rawPath: string[]): void => {
    const keys = sortedKeys(node);
    if (keys.includes('')) {
      if (rawPath.length === 0)
        throw fileParseFailed('the file tree root is a file without a name');
      const leaf = node[''];
      if (keys.length !== 1 || !isBencodeDict(leaf))
        throw fileParseFailed(`invalid file node ${rawPath.join('/')}`);
      if (files.length >= maxFiles) throw fileParseFailed(`more than ${maxFiles} files`);
      files.push(readFile(leaf, rawPath));
      return;
    }
    if (keys.length === 0) throw fileParseFailed(`empty directory ${rawPath.join('/')}`);
    for (const key of keys) {
      const child = node[key];
      if (!isBencodeDict(child))
        throw fileParseFailed(`invalid file tree node ${[...rawPath, key].join('/')}`);
      walk(child, [...rawPath, key]);
    }
  };
  walk(tree, []);
  return files;
}

/**
 * Checks BEP 52 `piece layers` (a dictionary from `pieces root` to the concatenated hashes of the
 * file's pieces): every key must be the root of a file larger than one piece, every layer must
 * hold ceil(length / piece length) 32-byte hashes, and the layer must hash up to its root.
 * Throws INVALID_PIECE_LAYER. Returns the layers keyed by hex root.
 */
export function checkPieceLayers(
  value: BencodeValue | undefined,
  files: readonly V2FileEntry[],
  pieceLength: number,
): Map<string, Uint8Array> | undefined {
  if (value === undefined) return undefined;
  if (!isBencodeDict(value))
    throw new MetainfoError('INVALID_PIECE_LAYER', "'piece layers' is not a dictionary");
  const byRoot = new Map<string, V2FileEntry>();
  for (const file of files) {
    if (file.piecesRoot !== undefined && file.length > pieceLength)
      byRoot.set(toHex(file.piecesRoot), file);
  }
  const layers = new Map<string, Uint8Array>();
  for (const key of Object.keys(value)) {
    const rootBytes = binaryToBytes(key);
    const file = rootBytes === undefined ? undefined : byRoot.get(toHex(rootBytes));
    const layer = value[key];
    if (file === undefined || rootBytes === undefined) {
      throw new MetainfoError('INVALID_PIECE_LAYER', 'a piece layer belongs to no file');
    }
    const expected = Math.ceil(file.length / pieceLength) * HASH_LENGTH_V2;
    if (!(layer instanceof Uint8Array) || layer.length !== expected) {
      throw new MetainfoError(
        'INVALID_PIECE_LAYER',
        `piece layer of ${file.rawPath.join('/')} has the wrong length`,
      );
    }
    if (Buffer.compare(rootFromPieceLayer(layer, pieceLength), rootBytes) !== 0) {
      throw new MetainfoError(
        'INVALID_PIECE_LAYER',
        `piece layer of ${file.rawPath.join('/')} does not match its root`,
      );
    }
    layers.set(toHex(rootBytes), layer);
  }
  return layers;
}
