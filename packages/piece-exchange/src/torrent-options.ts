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
  /**
   * Called after each piece of a re-check (progress). If it throws (e.g. an aborted signal's
   * `throwIfAborted()`), the re-check stops there and `open` rejects with that error.
   */
  onRecheck?: (piece: number, ok: boolean) => void;
  /**
   * Trusts the caller that the files on disk already hold every piece, e.g. because it just
   * hashed them itself with `createTorrent`: the session starts as a seed without hashing or
   * resume data. Only file sizes are checked (a piece whose files are missing or short is not
   * counted). Nothing is verified, so wrong content is served as is and remote peers discard it
   * (BEP 3 hash check): pass it only for content you hashed. `recheck` takes precedence.
   * Default false.
   */
  assumeComplete?: boolean;
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
  /** The connection's remote address (for an incoming one, the peer's ephemeral port). */
  readonly address: string;
  /** The remote peer id from its handshake (BEP 3), 40 hex digits. */
  readonly peerId: string;
  /**
   * Where the peer accepts connections, when known: the dialed address for an outgoing
   * connection, else the remote IP with the port of its extension handshake `p` (BEP 10).
   */
  readonly listenAddress: string | undefined;
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
  /**
   * Bytes still to download: `totalLength` less the exact size of each verified piece (the last
   * one is short), the BEP 3 tracker `left`. 0 when done; undefined before the metadata is known.
   */
  readonly left: number | undefined;
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

/** A peer that sent blocks of a piece (see the `piece` and `hashFailure` events). */
export interface PieceContributor {
  /** The peer id from its handshake, 40 hex digits. */
  readonly peerId: string;
  /** The connection's remote address. */
  readonly address: string;
  /** Where the peer accepts connections, when known (see `PeerStats.listenAddress`). */
  readonly listenAddress: string | undefined;
  /** Blocks of the piece it sent that were accepted. */
  readonly blocks: number;
}

/**
 * Why a connection was refused before it opened (no `connect` was emitted for it): our own
 * peer id, a second connection to a peer already connected, a banned IP, the torrent closing,
 * or a handshake that failed (not plain BitTorrent, e.g. MSE/PE encrypted; wrong info-hash;
 * the connection ended first).
 */
export type PeerRejectReason = 'self' | 'duplicate' | 'banned' | 'closing' | 'handshake';

export type PeerEvent =
  /** Both handshakes done (`connect`), or such a connection closed (`disconnect`). */
  | {
      type: 'connect' | 'disconnect';
      address: Address;
      /** The remote peer id (hex). */
      peerId?: string;
      error?: Error;
    }
  /** A connection refused or failed before it opened: no `connect` or `disconnect` for it. */
  | { type: 'rejected'; address: Address; reason: PeerRejectReason; error?: Error };

/** Delay before the first redial of an address whose dial failed. */
export const REDIAL_BASE_MS = 1000;
/** Longest delay between redials. */
export const REDIAL_MAX_MS = 30_000;

/**
 * Exponential backoff for dialing an address again after `failures` failed dials in a row
 * (≥ 1): 1 s, 2 s, 4 s, 8 s, … capped at `REDIAL_MAX_MS`. After 6 failures it is dropped.
 */
export function redialDelay(failures: number): number {
  return Math.min(REDIAL_MAX_MS, REDIAL_BASE_MS * 2 ** Math.max(0, failures - 1));
}

export interface TorrentEvents {
  /** The info dictionary is known (at once, or fetched for a magnet). */
  metadata: (info: TorrentInfo) => void;
  /**
   * A piece passed its hash check and is stored; `contributors` are the peers that sent its
   * blocks (several when blocks came from several peers, e.g. in endgame).
   */
  piece: (index: number, contributors: readonly PieceContributor[]) => void;
  progress: (verified: number, total: number) => void;
  /** Every piece is verified. */
  done: () => void;
  peer: (event: PeerEvent) => void;
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
