/**
 * The types around a `Torrent`: its content description (`TorrentInfo`, from parsed metainfo),
 * options, statistics and events.
 */
import type { Address, BindOptions, Network } from '@peerkit/transport';
import type { MagnetLink } from './magnet';
import { parseInfoDictionary, requireV1 } from './metainfo/parse';
import type { Metainfo } from './metainfo/types';
import type { PeerLimits } from './session/peer-host';
import type { FileSystem } from './storage/file-system';
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
  };
}

/** Parses an info dictionary fetched for a magnet link (BEP 9) with `parseInfoDictionary`. */
export function parseInfoBytes(infoBytes: Uint8Array): TorrentInfo {
  return torrentInfoFromMetainfo(parseInfoDictionary(infoBytes));
}

export interface TorrentOptions {
  network: Network;
  /** Directory the files are stored under. */
  directory: string;
  /** The torrent's content (`torrentInfoFromMetainfo(parseTorrent(bytes))`). */
  info?: TorrentInfo;
  /** For a magnet link: the info-hash whose info dictionary is fetched from peers (BEP 9). */
  infoHash?: Uint8Array;
  /** A magnet link (text or parsed): its v1 info-hash, and its `x.pe` peers are dialed. */
  magnet?: string | MagnetLink;
  /** Turns a fetched, verified info dictionary into `TorrentInfo` (default `parseInfoBytes`). */
  parseInfo?: (infoBytes: Uint8Array, infoHash: Uint8Array) => TorrentInfo;
  /** Peers to connect to, whether seeding or leeching. */
  peers?: readonly Address[];
  /** Accept incoming connections here (default: do not listen). */
  listen?: BindOptions;
  /** File system (default: node:fs/promises). */
  fs?: FileSystem;
  /** 20 bytes; default `-PK0100-` + 12 random bytes. */
  peerId?: Uint8Array;
  /** Resume data: `false` off, a path, or default `<directory>/.peerkit/<info-hash>.resume`. */
  resume?: false | string;
  /** Verify every piece from the files on disk at start (re-check mode). Default false. */
  recheck?: boolean;
  /** Download pieces in order (streaming). Default false. */
  sequential?: boolean;
  /** Most open connections (default 50). */
  maxConnections?: number;
  /** Trust at or below which a peer's IP is banned (default -6: three failed pieces). */
  banTrust?: number;
  /** Saves resume data at most this often while downloading (default 5,000 ms). */
  resumeIntervalMs?: number;
  /** Torrent tick: request timeouts, keep-alives, redials (default 1,000 ms). */
  tickMs?: number;
  limits?: Partial<PeerLimits>;
  /** Client name sent in the extension handshake (`v`). */
  clientName?: string;
  maxMetadataSize?: number;
}

export interface PeerStats {
  readonly address: string;
  readonly client: string | undefined;
  readonly outgoing: boolean;
  readonly downloadRate: number;
  readonly uploadRate: number;
  readonly downloaded: number;
  readonly uploaded: number;
  readonly amChoking: boolean;
  readonly amInterested: boolean;
  readonly peerChoking: boolean;
  readonly peerInterested: boolean;
  readonly snubbed: boolean;
  readonly seed: boolean;
}

export interface TorrentStats {
  readonly infoHash: string;
  readonly name: string | undefined;
  readonly pieceCount: number;
  readonly verifiedPieces: number;
  readonly totalLength: number;
  /** Bytes of accepted blocks received (duplicates and unsolicited blocks not counted). */
  readonly downloaded: number;
  readonly uploaded: number;
  /** Bytes received that were dropped (duplicates, unsolicited, failed pieces). */
  readonly wasted: number;
  readonly downloadRate: number;
  readonly uploadRate: number;
  readonly hashFailures: number;
  readonly done: boolean;
  readonly paused: boolean;
  readonly peers: readonly PeerStats[];
  /** Connected peers having each piece. */
  readonly availability: Uint32Array;
  /** Pieces found verified (resume data or re-check) when the content was opened. */
  readonly resumedPieces: number;
}

export interface TorrentEvents {
  /** The info dictionary is known (at once, or fetched for a magnet). */
  metadata: (info: TorrentInfo) => void;
  /** A piece passed its hash check and is stored. */
  piece: (index: number) => void;
  progress: (verified: number, total: number) => void;
  /** Every piece is verified. */
  done: () => void;
  peer: (event: { type: 'connect' | 'disconnect'; address: Address; error?: Error }) => void;
  /** A piece failed its hash check; `peers` sent its blocks. */
  hashFailure: (index: number, peers: readonly string[]) => void;
  ban: (host: string) => void;
  /** A storage failure: the session pauses. */
  error: (error: Error) => void;
}

export const DEFAULT_LIMITS: PeerLimits = {
  maxPeerRequests: 500,
  minRequestDepth: 16,
  maxRequestDepth: 1000,
  pipelineSeconds: 2,
  requestTimeoutMs: 20_000,
  idleTimeoutMs: 180_000,
  uploadBatchBlocks: 16,
};
