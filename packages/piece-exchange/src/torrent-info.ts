/** What a session needs to know about a torrent's content, from a parsed .torrent or BEP 9. */
import type { Address } from '@peerkit/transport';
import { MetainfoError } from './errors';
import { type MagnetLink, parseMagnet } from './magnet';
import { parseInfoDictionary, requireV1 } from './metainfo/parse';
import type { Metainfo } from './metainfo/types';
import type { LayoutFileInput } from './storage/layout';

/** What a session needs to know about a torrent's content (from a parsed .torrent). */
export interface TorrentInfo {
  /** The 20-byte v1 info-hash. */
  readonly infoHash: Uint8Array;
  readonly name: string;
  readonly pieceLength: number;
  /** 20 bytes of SHA-1 per piece. */
  readonly pieceHashes: Uint8Array;
  /** Files in order, paths relative to the download directory. */
  readonly files: readonly LayoutFileInput[];
  /** The bencoded info dictionary, served to magnet peers (BEP 9). */
  readonly infoBytes?: Uint8Array;
  /** BEP 27 `private`: peers come from trackers (and the user) only, no PEX. */
  readonly private?: boolean;
}

/**
 * The session's view of parsed metainfo (`parseTorrent`). A v2-only torrent throws
 * `MetainfoError` `V2_ONLY_UNSUPPORTED`; a hybrid downloads as v1.
 */
export function torrentInfoFromMetainfo(metainfo: Metainfo): TorrentInfo {
  const v1 = requireV1(metainfo);
  return {
    infoHash: v1.infoHash,
    name: v1.name,
    pieceLength: v1.pieceLength,
    pieceHashes: v1.pieces,
    files: v1.files.map((f) => ({ path: f.path, length: f.length, padding: f.padding })),
    infoBytes: v1.infoBytes,
    ...(v1.private ? { private: true } : {}),
  };
}

/** Parses an info dictionary fetched for a magnet link (BEP 9) with `parseInfoDictionary`. */
export function parseInfoBytes(infoBytes: Uint8Array): TorrentInfo {
  return torrentInfoFromMetainfo(parseInfoDictionary(infoBytes));
}

/**
 * The info-hash a session is for, from `info`, `infoHash` or a magnet link, and the magnet's
 * `x.pe` peers. A v2-only magnet throws `V2_ONLY_UNSUPPORTED`; none of the three, `RangeError`.
 */
export function torrentTarget(options: {
  info?: TorrentInfo;
  infoHash?: Uint8Array;
  magnet?: string | MagnetLink;
}): { infoHash: Uint8Array; magnetPeers: Address[] } {
  const magnet = typeof options.magnet === 'string' ? parseMagnet(options.magnet) : options.magnet;
  if (magnet !== undefined && magnet.infoHash === undefined) {
    throw new MetainfoError(
      'V2_ONLY_UNSUPPORTED',
      'a v2-only magnet (btmh) cannot be downloaded yet',
    );
  }
  const infoHash = options.info?.infoHash ?? options.infoHash ?? magnet?.infoHash;
  if (infoHash === undefined || infoHash.length !== 20) {
    throw new RangeError('a torrent needs `info`, a 20-byte `infoHash` or a `magnet`');
  }
  return {
    infoHash,
    magnetPeers: magnet?.peers.map((p) => ({ host: p.host, port: p.port })) ?? [],
  };
}
