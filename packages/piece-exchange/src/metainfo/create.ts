/**
 * Creating v1 .torrent files (BEP 3), optionally with BEP 47 padding files so that every file
 * starts on a piece boundary. Pieces are hashed with node:crypto SHA-1 as the content streams
 * through: memory use is one chunk, whatever the size of the files.
 */
import { createHash, type Hash } from 'node:crypto';
import { type BencodeInputDict, encode } from '@peerkit/bencode';
import type { Address } from '@peerkit/transport';
import { MetainfoError } from '../errors';
import { BLOCK_LENGTH } from '../wire/messages';
import { parseTorrentV1 } from './parse';
import type { V1Metainfo } from './types';

/** Bytes of a file: one buffer, or a function returning its chunks in order (read lazily). */
export type FileContent = Uint8Array | (() => AsyncIterable<Uint8Array> | Iterable<Uint8Array>);

export interface TorrentInputFile {
  /** Path inside the torrent, one element per directory level, e.g. `['docs', 'a.txt']`. */
  path: readonly string[];
  /** Exact length in bytes; the content must have exactly this many. */
  length: number;
  content: FileContent;
  /** BEP 47 `attr` `x`. */
  executable?: boolean;
  /** BEP 47 `attr` `h`. */
  hidden?: boolean;
}

export interface CreateTorrentOptions {
  /**
   * Torrent name. Single-file torrents default to the file's name; a multi-file torrent (more than
   * one file, or a file in a directory) needs it: it is the directory the files go into.
   */
  name?: string;
  /** A power of two ≥ 16 KiB (default: chosen for ~1000-2000 pieces, 16 KiB..16 MiB). */
  pieceLength?: number;
  /** Trackers: a flat list (one tier each) or tiers (`announce-list`, BEP 12). */
  trackers?: readonly string[] | readonly (readonly string[])[];
  /** BEP 19 web seeds (`url-list`). */
  urlList?: readonly string[];
  /** BEP 5 DHT bootstrap nodes. */
  nodes?: readonly Address[];
  comment?: string;
  createdBy?: string;
  /** Seconds since the Unix epoch (left out when not given, so output is deterministic). */
  creationDate?: number;
  /** BEP 27 private flag. */
  private?: boolean;
  /** BEP 47: insert padding files so every file starts on a piece boundary (multi-file only). */
  padFiles?: boolean;
}

export interface CreatedTorrent {
  /** The .torrent file bytes. */
  torrent: Uint8Array;
  /** The same torrent, parsed. */
  metainfo: V1Metainfo;
}

/** The smallest piece length we create: one block (BEP 3). */
export const MIN_PIECE_LENGTH = BLOCK_LENGTH;
export const MAX_DEFAULT_PIECE_LENGTH = 16 * 1024 * 1024;

export function invalid(message: string): MetainfoError {
  return new MetainfoError('INVALID_OPTIONS', message);
}

/** A power of two between 16 KiB and 16 MiB giving at most ~2000 pieces. */
export function defaultPieceLength(totalLength: number): number {
  let length = MIN_PIECE_LENGTH;
  while (length < MAX_DEFAULT_PIECE_LENGTH && totalLength / length > 2000) length *= 2;
  return length;
}

export function checkElement(element: string): void {
  if (
    element === '' ||
    element === '.' ||
    element === '..' ||
    /[/\\]/.test(element) ||
    element.includes('\0')
  ) {
    throw invalid(`invalid path element ${JSON.stringify(element)}`);
  }
}

export async function* chunksOf(content: FileContent): AsyncIterable<Uint8Array> {
  if (content instanceof Uint8Array) {
    yield content;
    return;
  }
  yield* content();
}

/** Feeds bytes into consecutive piece hashes. */
export class PieceHasher {
  readonly #pieceLength: number;
  readonly #hashes: Uint8Array[] = [];
  #hash: Hash = createHash('sha1');
  #filled = 0;

  constructor(pieceLength: number) {
    this.#pieceLength = pieceLength;
  }

  update(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(this.#pieceLength - this.#filled, bytes.length - offset);
      this.#hash.update(bytes.subarray(offset, offset + take));
      this.#filled += take;
      offset += take;
      if (this.#filled === this.#pieceLength) this.#finishPiece();
    }
  }

  /** The concatenated piece hashes (the last, short piece included). */
  digest(): Uint8Array {
    if (this.#filled > 0) this.#finishPiece();
    return Buffer.concat(this.#hashes);
  }

  #finishPiece(): void {
    this.#hashes.push(this.#hash.digest());
    this.#hash = createHash('sha1');
    this.#filled = 0;
  }
}

/**
 * Checks the files of a torrent to create (v1, v2 or hybrid): at least one, paths non-empty,
 * valid (BEP 3 path elements) and unique, lengths whole and not negative, some data in all; and
 * the piece length: a power of two of at least 16 KiB (BEP 52), by default from the total.
 */
export function checkInput(
  files: readonly TorrentInputFile[],
  requestedPieceLength: number | undefined,
): { total: number; pieceLength: number } {
  if (files.length === 0) throw invalid('no files');
  const seen = new Set<string>();
  let total = 0;
  for (const file of files) {
    if (file.path.length === 0) throw invalid('a file has an empty path');
    file.path.forEach(checkElement);
    const key = file.path.join('/');
    if (seen.has(key)) throw invalid(`duplicate path ${key}`);
    seen.add(key);
    if (!Number.isSafeInteger(file.length) || file.length < 0)
      throw invalid(`invalid length of ${key}`);
    total += file.length;
  }
  if (total === 0) throw invalid('the torrent has no data (total length 0)');
  const pieceLength = requestedPieceLength ?? defaultPieceLength(total);
  if (
    !Number.isInteger(pieceLength) ||
    pieceLength < MIN_PIECE_LENGTH ||
    (pieceLength & (pieceLength - 1)) !== 0
  ) {
    throw invalid(`piece length must be a power of two ≥ 16 KiB, got ${pieceLength}`);
  }
  return { total, pieceLength };
}

/**
 * Creates a v1 .torrent from files, hashing their content piece by piece. Throws
 * `MetainfoError` `INVALID_OPTIONS` for unusable input (bad piece length, empty or duplicate
 * paths, content whose length differs from `length`, zero total length).
 */
export async function createTorrent(
  files: readonly TorrentInputFile[],
  options: CreateTorrentOptions = {},
): Promise<CreatedTorrent> {
  const { pieceLength } = checkInput(files, options.pieceLength);
  const single = files.length === 1 && files[0]!.path.length === 1;
  const name = options.name ?? (single ? files[0]!.path[0]! : undefined);
  if (name === undefined) throw invalid('a multi-file torrent needs a name');
  checkElement(name);

  const hasher = new PieceHasher(pieceLength);
  const entries: BencodeInputDict[] = [];
  let offset = 0;
  for (const [i, file] of files.entries()) {
    let read = 0;
    for await (const chunk of chunksOf(file.content)) {
      read += chunk.length;
      if (read > file.length) break;
      hasher.update(chunk);
    }
    if (read !== file.length) {
      throw invalid(
        `${file.path.join('/')} has ${read > file.length ? 'more' : read} bytes, expected ${file.length}`,
      );
    }
    offset += file.length;
    const attr = `${file.executable ? 'x' : ''}${file.hidden ? 'h' : ''}`;
    entries.push({ length: file.length, path: [...file.path], attr: attr || undefined });
    // BEP 47: a pad file after every file that does not end on a piece boundary (but the last).
    const tail = (pieceLength - (offset % pieceLength)) % pieceLength;
    if (options.padFiles && !single && tail > 0 && i < files.length - 1) {
      hasher.update(new Uint8Array(tail));
      entries.push({ attr: 'p', length: tail, path: ['.pad', String(tail)] });
      offset += tail;
    }
  }

  const info: BencodeInputDict = {
    name,
    'piece length': pieceLength,
    pieces: hasher.digest(),
    private: options.private ? 1 : undefined,
    ...(single
      ? {
          length: files[0]!.length,
          attr: entries[0]!.attr,
        }
      : { files: entries }),
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
    'url-list': options.urlList && options.urlList.length > 0 ? [...options.urlList] : undefined,
  };
  const torrent = encode(root);
  return { torrent, metainfo: parseTorrentV1(torrent) };
}
