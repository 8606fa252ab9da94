/** What a session needs to know about a torrent's content, from a parsed .torrent or BEP 9. */
import type { Address } from '@peerkit/transport';
import { type MagnetLink, parseMagnet } from './magnet';
import { parseInfoDictionary } from './metainfo/parse';
import type { Metainfo } from './metainfo/types';
import type { LayoutFileInput } from './storage/layout';
import type { V2File } from './v2/piece-layers';

/** BEP 52: the v2 side of a v2-only or hybrid torrent. */
export interface TorrentInfoV2 {
  /** `v2`: merkle hashes only; `hybrid`: SHA-1 `pieceHashes` too, and both must agree. */
  readonly version: 'v2' | 'hybrid';
  /** The 32-byte SHA-256 info-hash (its first 20 bytes go in handshakes, trackers, DHT). */
  readonly infoHash: Uint8Array;
  /** The non-empty files with their `pieces root`, placed in the piece space. */
  readonly files: readonly V2File[];
  /**
   * Known piece layers (hex pieces root → hashes): all of them from a .torrent file, none after
   * a magnet's metadata (they are then fetched with BEP 52 hash requests).
   */
  readonly pieceLayers: ReadonlyMap<string, Uint8Array>;
}

/** What a session needs to know about a torrent's content (from a parsed .torrent). */
export interface TorrentInfo {
  /**
   * The 20-byte info-hash of handshakes, trackers and the DHT: the v1 SHA-1 one, or for a v2-only
   * torrent the SHA-256 one truncated to 20 bytes (BEP 52).
   */
  readonly infoHash: Uint8Array;
  readonly name: string;
  readonly pieceLength: number;
  /** 20 bytes of SHA-1 per piece (empty for a v2-only torrent). */
  readonly pieceHashes: Uint8Array;
  /** Files in order, paths relative to the download directory. */
  readonly files: readonly LayoutFileInput[];
  /** The bencoded info dictionary, served to magnet peers (BEP 9). */
  readonly infoBytes?: Uint8Array;
  /** BEP 27 `private`: peers come from trackers (and the user) only, no PEX. */
  readonly private?: boolean;
  /** BEP 52 v2 hashes, for v2-only and hybrid torrents. */
  readonly v2?: TorrentInfoV2;
}

/** The v2 part of the session's view, from parsed v2 or hybrid metainfo. */
function v2Info(metainfo: Metainfo): TorrentInfoV2 | undefined {
  if (metainfo.version === 'v1' || metainfo.infoHashV2 === undefined) return undefined;
  const files: V2File[] = [];
  for (const f of metainfo.files) {
    if (f.piecesRoot !== undefined && f.length > 0 && !f.padding)
      files.push({ offset: f.offset, length: f.length, piecesRoot: f.piecesRoot });
  }
  return {
    version: metainfo.version,
    infoHash: metainfo.infoHashV2,
    files,
    pieceLayers: metainfo.pieceLayers ?? new Map(),
  };
}

/**
 * The session's view of parsed metainfo (`parseTorrent`): v1, v2-only (BEP 52 merkle hashes,
 * the truncated SHA-256 info-hash) and hybrid (both kinds of hashes checked).
 */
export function torrentInfoFromMetainfo(metainfo: Metainfo): TorrentInfo {
  const v2 = v2Info(metainfo);
  return {
    infoHash: metainfo.infoHash ?? metainfo.infoHashV2.subarray(0, 20),
    name: metainfo.name,
    pieceLength: metainfo.pieceLength,
    pieceHashes: metainfo.version === 'v2' ? new Uint8Array(0) : metainfo.pieces,
    files: metainfo.files.map((f) => ({ path: f.path, length: f.length, padding: f.padding })),
    infoBytes: metainfo.infoBytes,
    ...(metainfo.private ? { private: true } : {}),
    ...(v2 !== undefined ? { v2 } : {}),
  };
}

/** Parses an info dictionary fetched for a magnet link (BEP 9) with `parseInfoDictionary`. */
export function parseInfoBytes(infoBytes: Uint8Array): TorrentInfo {
  return torrentInfoFromMetainfo(parseInfoDictionary(infoBytes));
}

/** The v2 info-hash of a session, and the second handshake info-hash of a hybrid (BEP 52). */
export interface V2Target {
  /** The full 32-byte SHA-256 info-hash (what BEP 9 metadata is checked against). */
  readonly infoHash: Uint8Array;
  /** A hybrid's truncated v2 info-hash, accepted in incoming handshakes besides the v1 one. */
  readonly altInfoHash?: Uint8Array;
}

function v2Target(infoHash: Uint8Array, full: Uint8Array): V2Target {
  const truncated = full.subarray(0, 20);
  const hybrid = Buffer.compare(truncated, infoHash) !== 0;
  return { infoHash: full, ...(hybrid ? { altInfoHash: truncated } : {}) };
}

/**
 * The info-hash a session is for, from `info`, `infoHash` or a magnet link (a v2-only magnet's
 * SHA-256 info-hash truncated to 20 bytes, BEP 52), and the magnet's `x.pe` peers. None of the
 * three: `RangeError`.
 */
export function torrentTarget(options: {
  info?: TorrentInfo;
  infoHash?: Uint8Array;
  magnet?: string | MagnetLink;
}): { infoHash: Uint8Array; magnetPeers: Address[]; v2?: V2Target } {
  const magnet = typeof options.magnet === 'string' ? parseMagnet(options.magnet) : options.magnet;
  const infoHash =
    options.info?.infoHash ??
    options.infoHash ??
    magnet?.infoHash ??
    magnet?.infoHashV2?.subarray(0, 20);
  if (infoHash === undefined || infoHash.length !== 20) {
    throw new RangeError('a torrent needs `info`, a 20-byte `infoHash` or a `magnet`');
  }
  const full = options.info?.v2?.infoHash ?? (options.info ? undefined : magnet?.infoHashV2);
  return {
    infoHash,
    magnetPeers: magnet?.peers.map((p) => ({ host: p.host, port: p.port })) ?? [],
    ...(full !== undefined ? { v2: v2Target(infoHash, full) } : {}),
  };
}
