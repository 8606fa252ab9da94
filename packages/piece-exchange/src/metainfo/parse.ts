/**
 * Parsing .torrent files (BEP 3 metainfo; BEP 52 v2 and hybrid; BEP 47 attributes and padding
 * files). Policy (see README "Metainfo and magnets"): follow libtorrent, whose test torrents are
 * the vectors. v1 torrents are decoded leniently (unsorted keys, trailing bytes after the root
 * dictionary) and the info-hash is taken over the original bytes of `info`; a v2 or hybrid info
 * dictionary must be canonical bencode.
 */
import { createHash } from 'node:crypto';
import {
  type BencodeDict,
  type BencodeValue,
  decode,
  decodePrefix,
  decodeWithSpans,
  isBencodeDict,
} from '@peerkit/bencode';
import type { Address } from '@peerkit/transport';
import { MetainfoError } from '../errors';
import { BLOCK_LENGTH } from '../wire/messages';
import { cleanPathText, renameDuplicates, sanitizePath, sanitizePathElement } from './path';
import type { Metainfo, MetaVersion, TorrentFile, V1Metainfo } from './types';
import { checkPieceLayers, parseFileTree, readSymlinkPath, type V2FileEntry } from './v2';

export interface ParseTorrentOptions {
  /** Largest .torrent accepted, in bytes (default 64 MiB). */
  maxSize?: number;
  /** Most pieces accepted (default 2^21, libtorrent's default `max_pieces`). */
  maxPieces?: number;
  /** Most files accepted (default 1,000,000). */
  maxFiles?: number;
}

export const DEFAULT_MAX_TORRENT_SIZE = 64 * 1024 * 1024;
export const DEFAULT_MAX_PIECES = 2 ** 21;
export const DEFAULT_MAX_FILES = 1_000_000;
/** BEP 52: "piece length ... must be a power of two and at least 16KiB". */
export const MIN_PIECE_LENGTH_V2 = BLOCK_LENGTH;
/** Largest piece length accepted when parsing (512 MiB). */
export const MAX_PIECE_LENGTH = 2 ** 29;

const utf8 = new TextDecoder();
const text = (value: Uint8Array) => utf8.decode(value);

function sha(algorithm: 'sha1' | 'sha256', bytes: Uint8Array): Uint8Array {
  return createHash(algorithm).update(bytes).digest();
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Decodes the root of a .torrent leniently and finds the raw bytes of `info`. */
function decodeTorrent(bytes: Uint8Array, options: ParseTorrentOptions) {
  const maxSize = options.maxSize ?? DEFAULT_MAX_TORRENT_SIZE;
  if (bytes.length > maxSize) {
    throw new MetainfoError('TOO_LARGE', `torrent of ${bytes.length} bytes exceeds ${maxSize}`);
  }
  try {
    // libtorrent ignores bytes after the root value; so do we (anacrolix refuses them).
    const { end } = decodePrefix(bytes, { strict: false });
    const { value, span } = decodeWithSpans(bytes.subarray(0, end), { strict: false });
    return { root: value, span };
  } catch (error) {
    throw new MetainfoError('INVALID_BENCODING', 'the torrent is not valid bencode', {
      cause: error,
    });
  }
}

/**
 * Parses a .torrent file. v1, v2 and hybrid torrents parse; a v2-only torrent comes back with
 * `version: 'v2'` (use `parseTorrentV1` or `requireV1` where v1 piece hashes are needed).
 */
export function parseTorrent(bytes: Uint8Array, options: ParseTorrentOptions = {}): Metainfo {
  const { root, span } = decodeTorrent(bytes, options);
  if (!isBencodeDict(root))
    throw new MetainfoError('NOT_A_DICTIONARY', 'torrent file is not a dictionary');
  const infoSpan = span.entries?.info;
  if (!isBencodeDict(root.info) || infoSpan === undefined) {
    throw new MetainfoError('MISSING_INFO', "missing or invalid 'info' section in torrent file");
  }
  const infoBytes = bytes.subarray(infoSpan.start, infoSpan.end);
  const metainfo = parseInfo(root.info, infoBytes, root['piece layers'], options);
  readRootFields(root, metainfo);
  metainfo.raw = root;
  return metainfo;
}

/** `parseTorrent`, refusing a v2-only torrent with `V2_ONLY_UNSUPPORTED`. */
export function parseTorrentV1(bytes: Uint8Array, options: ParseTorrentOptions = {}): V1Metainfo {
  return requireV1(parseTorrent(bytes, options));
}

/**
 * Builds the metainfo of a torrent from the bytes of its info dictionary alone, e.g. after a BEP 9
 * metadata download for a magnet link. `trackers` become the announce tiers (one per tracker).
 */
export function parseInfoDictionary(
  infoBytes: Uint8Array,
  options: ParseTorrentOptions & { trackers?: readonly string[] } = {},
): Metainfo {
  let info: BencodeValue;
  try {
    info = decode(infoBytes, { strict: false });
  } catch (error) {
    throw new MetainfoError('INVALID_BENCODING', 'the info dictionary is not valid bencode', {
      cause: error,
    });
  }
  if (!isBencodeDict(info))
    throw new MetainfoError('MISSING_INFO', 'the info value is not a dictionary');
  const metainfo = parseInfo(info, infoBytes, undefined, options);
  metainfo.announce = (options.trackers ?? []).map((t) => [t]);
  metainfo.raw = Object.assign(Object.create(null) as BencodeDict, { info });
  return metainfo;
}

/**
 * Narrows to a torrent with v1 pieces (v1 or hybrid), for code that needs its SHA-1 `pieces`;
 * throws `V2_ONLY_UNSUPPORTED`. Transfer does not need it: `torrentInfoFromMetainfo` takes all.
 */
export function requireV1(metainfo: Metainfo): V1Metainfo {
  if (metainfo.version === 'v2') {
    throw new MetainfoError(
      'V2_ONLY_UNSUPPORTED',
      'this is a v2-only torrent (BEP 52): it has no v1 piece hashes',
    );
  }
  return metainfo;
}

function readName(info: BencodeDict): string {
  const raw = info['name.utf-8'] instanceof Uint8Array ? info['name.utf-8'] : info.name;
  const clean = raw instanceof Uint8Array ? cleanPathText(raw) : '';
  if (clean === '' || clean === '.' || clean === '..') {
    throw new MetainfoError('MISSING_NAME', 'missing name in torrent file');
  }
  return sanitizePathElement(clean) ?? '_';
}

function readPieceLength(info: BencodeDict, v2: boolean): number {
  const value = info['piece length'];
  const ok =
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value > 0 &&
    value <= MAX_PIECE_LENGTH &&
    (!v2 || (isPowerOfTwo(value) && value >= MIN_PIECE_LENGTH_V2));
  if (!ok) {
    throw new MetainfoError(
      'MISSING_PIECE_LENGTH',
      "invalid or missing 'piece length' entry in torrent file",
    );
  }
  return value;
}

function readLength(value: BencodeValue | undefined): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new MetainfoError('INVALID_LENGTH', 'invalid length of torrent');
  }
  return value;
}

function attrFlags(attr: string) {
  return {
    padding: attr.includes('p'),
    executable: attr.includes('x'),
    hidden: attr.includes('h'),
  };
}

/** A file of the v1 list with its path as found (binary strings), to compare with v2's. */
interface V1File {
  file: TorrentFile;
  rawPath: string[];
}

const binary = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** The v1 file list: `files` (multi-file) or `length` (single file). */
function readV1Files(info: BencodeDict, name: string, maxFiles: number): V1File[] {
  const list = info.files;
  if (list === undefined) {
    const attr = readAttr(info);
    const rawName = info['name.utf-8'] instanceof Uint8Array ? info['name.utf-8'] : info.name;
    const file = {
      path: [name],
      length: readLength(info.length),
      offset: 0,
      attr,
      ...attrFlags(attr),
    };
    return [{ file, rawPath: rawName instanceof Uint8Array ? [binary(rawName)] : [name] }];
  }
  if (!Array.isArray(list)) throw new MetainfoError('FILE_PARSE_FAILED', "'files' is not a list");
  if (list.length === 0) throw new MetainfoError('NO_FILES', 'no files in torrent');
  if (list.length > maxFiles)
    throw new MetainfoError('FILE_PARSE_FAILED', `more than ${maxFiles} files`);
  const files: V1File[] = [];
  for (const entry of list) {
    if (!isBencodeDict(entry))
      throw new MetainfoError('FILE_PARSE_FAILED', 'a file entry is not a dictionary');
    const attr = readAttr(entry);
    // A symlink carries no data: libtorrent reads a missing length as 0.
    const length = entry.length === undefined && attr.includes('l') ? 0 : readLength(entry.length);
    const flags = attrFlags(attr);
    const rawPath = Array.isArray(entry['path.utf-8']) ? entry['path.utf-8'] : entry.path;
    // BitComet's padding files predate BEP 47's attr: `_____padding_file_...` names.
    const last = Array.isArray(rawPath) ? rawPath[rawPath.length - 1] : undefined;
    if (last instanceof Uint8Array && binary(last).startsWith('_____padding_file_')) {
      flags.padding = true;
    }
    let relative: string[];
    let raw: string[];
    if (rawPath === undefined && flags.padding) {
      relative = ['.pad', String(length)]; // libtorrent's name for a pad file without a path
      raw = relative;
    } else {
      if (
        !Array.isArray(rawPath) ||
        !rawPath.every((e): e is Uint8Array => e instanceof Uint8Array)
      ) {
        throw new MetainfoError(
          'INVALID_NAME',
          "invalid 'name' of torrent (possible exploit attempt)",
        );
      }
      relative = sanitizePath(rawPath);
      if (relative.length === 0) relative = ['_'];
      raw = rawPath.map(binary);
    }
    const file: TorrentFile = { path: [name, ...relative], length, offset: 0, attr, ...flags };
    if (attr.includes('l')) {
      const target = readSymlinkPath(entry['symlink path']);
      if (target !== undefined) file.symlink = [name, ...target];
    }
    files.push({ file, rawPath: raw });
  }
  return files;
}

function readAttr(dict: BencodeDict): string {
  const attr = dict.attr;
  return attr instanceof Uint8Array ? Buffer.from(attr).toString('latin1') : '';
}

function assignOffsets(files: TorrentFile[]): number {
  let offset = 0;
  for (const file of files) {
    file.offset = offset;
    offset += file.length;
    if (!Number.isSafeInteger(offset))
      throw new MetainfoError('INVALID_LENGTH', 'invalid length of torrent');
  }
  return offset;
}

/**
 * Files of a v2-only torrent. Every file starts on a piece boundary; like libtorrent, a
 * multi-file layout gets a BEP 47 pad file after each file that does not end on one.
 */
function v2Files(entries: V2FileEntry[], name: string, pieceLength: number): TorrentFile[] {
  const single = entries.length === 1 && entries[0]!.rawPath.length === 1;
  const files: TorrentFile[] = [];
  let offset = 0;
  for (const entry of entries) {
    const file: TorrentFile = {
      path: single ? entry.path : [name, ...entry.path],
      length: entry.length,
      offset,
      attr: entry.attr,
      ...attrFlags(entry.attr),
    };
    if (entry.piecesRoot !== undefined) file.piecesRoot = entry.piecesRoot;
    if (entry.symlink !== undefined)
      file.symlink = single ? entry.symlink : [name, ...entry.symlink];
    files.push(file);
    offset += entry.length;
    if (!Number.isSafeInteger(offset + pieceLength)) {
      throw new MetainfoError('INVALID_LENGTH', 'invalid length of torrent');
    }
    const tail = (pieceLength - (entry.length % pieceLength)) % pieceLength;
    if (!single && tail > 0) {
      files.push({
        path: [name, '.pad', String(tail)],
        length: tail,
        offset,
        attr: 'p',
        padding: true,
        executable: false,
        hidden: false,
      });
      offset += tail;
    }
  }
  return files;
}

/**
 * BEP 47 symlink targets are paths inside the torrent. libtorrent reads a target relative to the
 * torrent root and, when nothing in the torrent has that path, relative to the link's directory.
 */
function resolveSymlinks(files: TorrentFile[]): void {
  const known = new Set<string>();
  for (const file of files) {
    for (let i = 1; i <= file.path.length; i++) known.add(file.path.slice(0, i).join('/'));
  }
  for (const file of files) {
    if (file.symlink === undefined || file.path.length < 2) continue;
    const root = file.symlink;
    const relative = [...file.path.slice(0, -1), ...root.slice(1)];
    if (!known.has(root.join('/')) && known.has(relative.join('/'))) file.symlink = relative;
  }
}

/**
 * BEP 52 hybrid torrents: the v1 `files` (pad files aside) must list the v2 files in the same
 * order with the same paths and lengths, and every non-empty file must start on a piece boundary.
 */
function checkHybridConsistency(v1: V1File[], v2: V2FileEntry[], pieceLength: number): void {
  const inconsistent = () =>
    new MetainfoError('INCONSISTENT_FILES', 'the v1 and v2 file metadata does not match');
  const real = v1.filter(({ file }) => !file.padding);
  if (real.length !== v2.length) throw inconsistent();
  real.forEach(({ file, rawPath }, i) => {
    const other = v2[i]!;
    if (other.piecesRoot !== undefined) file.piecesRoot = other.piecesRoot;
    if (file.length !== other.length) throw inconsistent();
    if (rawPath.join('/') !== other.rawPath.join('/')) throw inconsistent();
    if (file.length > 0 && file.offset % pieceLength !== 0) throw inconsistent();
  });
}

/** Parses an info dictionary (with the root's `piece layers` when there is one). */
function parseInfo(
  info: BencodeDict,
  infoBytes: Uint8Array,
  pieceLayers: BencodeValue | undefined,
  options: ParseTorrentOptions,
): Metainfo {
  const metaVersion = info['meta version'];
  if (metaVersion !== undefined && metaVersion !== 2) {
    throw new MetainfoError(
      'UNSUPPORTED_META_VERSION',
      `unsupported meta version ${String(metaVersion)}`,
    );
  }
  const hasV2 = metaVersion === 2;
  const hasV1 = info.pieces !== undefined || !hasV2;
  const version: MetaVersion = hasV2 ? (hasV1 ? 'hybrid' : 'v2') : 'v1';
  if (hasV2) {
    // libtorrent refuses non-canonical bencoding inside a v2 info dictionary.
    try {
      decode(infoBytes, { strict: true });
    } catch (error) {
      throw new MetainfoError('INVALID_BENCODING', 'invalid bencoding in a v2 info dictionary', {
        cause: error,
      });
    }
  }
  const name = readName(info);
  const pieceLength = readPieceLength(info, hasV2);
  const maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
  const maxPieces = options.maxPieces ?? DEFAULT_MAX_PIECES;

  let v2Entries: V2FileEntry[] | undefined;
  let layers: Map<string, Uint8Array> | undefined;
  if (hasV2) {
    v2Entries = parseFileTree(info['file tree'], maxFiles);
    if (v2Entries.length === 0) throw new MetainfoError('NO_FILES', 'no files in torrent');
    layers = checkPieceLayers(pieceLayers, v2Entries, pieceLength);
  }

  const common = {
    name,
    pieceLength,
    private: info.private === 1,
    announce: [] as string[][],
    urlList: [] as string[],
    nodes: [] as Address[],
    infoBytes,
    raw: Object.create(null) as BencodeDict,
  };

  if (!hasV1) {
    const files = v2Files(v2Entries!, name, pieceLength);
    renameDuplicates(files);
    resolveSymlinks(files);
    const last = files[files.length - 1]!;
    return {
      ...common,
      version: 'v2',
      files,
      length: last.offset + last.length,
      infoHashV2: sha('sha256', infoBytes),
      ...(layers ? { pieceLayers: layers } : {}),
    };
  }

  const v1Files = readV1Files(info, name, maxFiles);
  const files = v1Files.map(({ file }) => file);
  const length = assignOffsets(files);
  if (length === 0) throw new MetainfoError('INVALID_LENGTH', 'invalid length of torrent');
  if (v2Entries !== undefined) checkHybridConsistency(v1Files, v2Entries, pieceLength);
  if (info.files !== undefined) resolveSymlinks(files);
  const pieceCount = Math.ceil(length / pieceLength);
  if (pieceCount > maxPieces)
    throw new MetainfoError('TOO_MANY_PIECES', 'too many pieces in torrent');
  const pieces = info.pieces;
  if (!(pieces instanceof Uint8Array) || pieces.length !== pieceCount * 20) {
    throw new MetainfoError('INVALID_PIECES', `'pieces' must hold ${pieceCount} SHA-1 hashes`);
  }
  renameDuplicates(files);
  const metainfo: V1Metainfo = {
    ...common,
    version: version as 'v1' | 'hybrid',
    files,
    length,
    infoHash: sha('sha1', infoBytes),
    pieces,
    pieceCount,
    lastPieceLength: length - (pieceCount - 1) * pieceLength,
  };
  if (hasV2) metainfo.infoHashV2 = sha('sha256', infoBytes);
  if (layers) metainfo.pieceLayers = layers;
  return metainfo;
}

/** Percent-encodes spaces, controls and non-ASCII characters in a URL (as libtorrent does). */
function escapeUrl(url: string): string {
  let out = '';
  for (const char of url) {
    const code = char.codePointAt(0)!;
    out +=
      code > 0x20 && code < 0x7f
        ? char
        : Array.from(
            Buffer.from(char, 'utf8'),
            (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
          ).join('');
  }
  return out;
}

function readString(value: BencodeValue | undefined): string | undefined {
  return value instanceof Uint8Array ? text(value) : undefined;
}

/** Fields outside `info`: trackers, web seeds, DHT nodes, comment, creator, date. */
function readRootFields(root: BencodeDict, metainfo: Metainfo): void {
  const tiers: string[][] = [];
  if (Array.isArray(root['announce-list'])) {
    for (const tier of root['announce-list']) {
      if (!Array.isArray(tier)) continue;
      const urls = tier
        .map(readString)
        .filter((u): u is string => u !== undefined)
        .map((u) => u.trim())
        .filter((u) => u !== '');
      if (urls.length > 0) tiers.push(urls);
    }
  }
  const announce = readString(root.announce)?.trim();
  if (tiers.length === 0 && announce) tiers.push([announce]);
  metainfo.announce = tiers;

  const urlList = root['url-list'];
  const urls = Array.isArray(urlList) ? urlList.map(readString) : [readString(urlList)];
  // BEP 19: in a multi-file torrent the URL names a directory (libtorrent appends the `/`).
  const multiFile = isBencodeDict(root.info) && root.info.files !== undefined;
  metainfo.urlList = urls
    .filter((u): u is string => u !== undefined)
    .map((u) => u.trim())
    .filter((u) => u !== '')
    .map((u) => escapeUrl(multiFile && !u.endsWith('/') ? `${u}/` : u));

  if (Array.isArray(root.nodes)) {
    for (const node of root.nodes) {
      if (!Array.isArray(node) || node.length !== 2) continue;
      const [host, port] = node;
      if (
        host instanceof Uint8Array &&
        typeof port === 'number' &&
        Number.isInteger(port) &&
        port > 0 &&
        port <= 0xffff
      ) {
        metainfo.nodes.push({ host: text(host), port });
      }
    }
  }
  const comment = readString(root['comment.utf-8']) ?? readString(root.comment);
  if (comment !== undefined) metainfo.comment = comment;
  const createdBy = readString(root['created by']);
  if (createdBy !== undefined) metainfo.createdBy = createdBy;
  const date = root['creation date'];
  if (typeof date === 'number' && Number.isInteger(date)) metainfo.creationDate = date;
}
