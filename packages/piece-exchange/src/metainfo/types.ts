/**
 * The parsed form of a .torrent file (BEP 3 metainfo, BEP 52 v2 and hybrid metainfo).
 */
import type { BencodeDict } from '@peerkit/bencode';
import type { Address } from '@peerkit/transport';

/** `v1`: BEP 3 only. `v2`: BEP 52 only (`meta version` 2, no `pieces`). `hybrid`: both. */
export type MetaVersion = 'v1' | 'v2' | 'hybrid';

export interface TorrentFile {
  /**
   * Sanitised path elements (see README "Metainfo and magnets"): for a multi-file torrent they
   * start with the torrent's name (the directory), for a single-file torrent it is `[name]`.
   */
  path: string[];
  /** File length in bytes. */
  length: number;
  /** Offset of the file's first byte in the torrent's byte space (v1: pad files included). */
  offset: number;
  /** BEP 47 `attr` string as found (e.g. `"p"`, `"x"`, `"hx"`), `""` when absent. */
  attr: string;
  /** BEP 47 padding file (`attr` contains `p`): all zeros, never written to disk. */
  padding: boolean;
  /** BEP 47 executable bit (`attr` contains `x`). */
  executable: boolean;
  /** BEP 47 hidden file (`attr` contains `h`). */
  hidden: boolean;
  /** BEP 47 symlink (`attr` contains `l`): the sanitised target path elements, relative to the torrent root. */
  symlink?: string[];
  /** BEP 52 `pieces root` (32 bytes) of a non-empty v2 file. */
  piecesRoot?: Uint8Array;
}

interface MetainfoCommon {
  /** Display name (sanitised `name`). */
  name: string;
  /** Bytes per piece. */
  pieceLength: number;
  /** Total length of the torrent's byte space (v1: including pad files). */
  length: number;
  /** Files in torrent order (v1 order for hybrids, pad files included). */
  files: TorrentFile[];
  /** BEP 27 private torrent (`private` = 1). */
  private: boolean;
  /** Tracker tiers (`announce-list`, or `[[announce]]`), URLs trimmed, empty ones dropped. */
  announce: string[][];
  /** BEP 19 web seeds (`url-list`, a string or a list). */
  urlList: string[];
  /** BEP 5 DHT bootstrap `nodes` given as [host, port] pairs. */
  nodes: Address[];
  comment?: string;
  createdBy?: string;
  /** Seconds since the Unix epoch. */
  creationDate?: number;
  /** The exact bytes of the `info` value as found in the file (what ut_metadata serves). */
  infoBytes: Uint8Array;
  /** BEP 52 SHA-256 info-hash (32 bytes), for v2 and hybrid torrents. */
  infoHashV2?: Uint8Array;
  /**
   * BEP 52 piece layers, keyed by the hex `pieces root` of the file they belong to; absent when
   * the torrent has none (a v2 torrent without piece layers is valid, like a magnet link).
   */
  pieceLayers?: Map<string, Uint8Array>;
  /** The decoded root dictionary, for fields this parser does not interpret. */
  raw: BencodeDict;
}

/** A torrent that can be transferred with v1 pieces: a v1 or a hybrid torrent. */
export interface V1Metainfo extends MetainfoCommon {
  version: 'v1' | 'hybrid';
  /** The v1 info-hash: SHA-1 of `infoBytes` (20 bytes). */
  infoHash: Uint8Array;
  /** Concatenated 20-byte SHA-1 piece hashes. */
  pieces: Uint8Array;
  pieceCount: number;
  /** Length of the last piece. */
  lastPieceLength: number;
}

/** A v2-only torrent: parsed and validated, but not transferable until BEP 52 transfer exists. */
export interface V2OnlyMetainfo extends MetainfoCommon {
  version: 'v2';
  infoHash?: undefined;
  infoHashV2: Uint8Array;
}

export type Metainfo = V1Metainfo | V2OnlyMetainfo;
