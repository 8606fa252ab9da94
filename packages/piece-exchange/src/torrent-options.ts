/** How a `Torrent` is opened: its content, peers, storage, limits and policies. */
import type { Address, BindOptions, Network } from '@peerkit/transport';
import type { ClientLink } from './client/attach';
import type { FilePriority } from './file-priorities';
import type { MagnetLink } from './magnet';
import type { EncryptionPolicy } from './mse/connect';
import type { PeerLimits } from './session/peer-limits';
import type { FileSystem } from './storage/file-system';
import type { LayoutFileInput } from './storage/layout';
import type { ExistingFilePolicy } from './storage/start';
import type { TorrentInfo } from './torrent-info';

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
  /**
   * A file already where the torrent's file goes, not recorded in resume data: `verify` (the
   * default) uses it only when it holds at least one of the torrent's pieces and is not longer
   * (else `open` throws `StorageError` `FILE_EXISTS`); `overwrite` writes into it whatever it
   * holds (cut to the torrent's length). See ./storage/start.ts.
   */
  existing?: ExistingFilePolicy;
  /**
   * Lock the files against a second writer (default true with the default file system): a
   * second session on the same files, in this process or another, fails with `LOCKED`.
   */
  lock?: boolean;
  /**
   * Each file's priority (`skip`, `normal`, `high`), in the torrent's file order, or a function
   * of the files giving them once they are known (a magnet); default: a magnet's BEP 53 `so=`
   * selection, else every file `normal`. See `Torrent.setFilePriorities`.
   */
  filePriorities?:
    | readonly FilePriority[]
    | ((files: readonly LayoutFileInput[]) => readonly FilePriority[]);
  /** Download pieces in order (streaming). Default false. */
  sequential?: boolean;
  /** Most open connections (default 50, `DEFAULT_MAX_CONNECTIONS`). */
  maxConnections?: number;
  /** Most connections still in their handshake (default 20, `DEFAULT_MAX_HALF_OPEN`). */
  maxHalfOpen?: number;
  /** Trust at or below which a peer's IP is banned (default -6: three failed pieces). */
  banTrust?: number;
  /** Saves resume data at most this often while downloading (default 5,000 ms). */
  resumeIntervalMs?: number;
  /** Torrent tick: request timeouts, keep-alives, redials (default 1,000 ms). */
  tickMs?: number;
  limits?: Partial<PeerLimits>;
  /**
   * MSE/PE (src/mse/connect.ts): `prefer` (default) dials encrypted first and falls back to
   * plain, accepts both and selects RC4; `require` dials and accepts RC4-encrypted connections
   * only; `plain` never encrypts (an encrypted incoming connection is ended).
   */
  encryption?: EncryptionPolicy;
  /** Client name sent in the extension handshake (`v`). */
  clientName?: string;
  maxMetadataSize?: number;
  /**
   * Set by `TorrentClient.add`: the torrent runs inside a client (its listener, tick, upload
   * slots, rate limits and disk budget are the client's) instead of on its own.
   */
  client?: ClientLink;
}

/** Default `tickMs`. */
export const TICK_MS = 1000;
/** Default `resumeIntervalMs`. */
export const RESUME_INTERVAL_MS = 5000;

/** A peer id in Azureus style (BEP 20): `-PK0100-` and 12 random bytes. */
export function defaultPeerId(random: Uint8Array): Uint8Array {
  const id = new Uint8Array(20);
  id.set(new TextEncoder().encode('-PK0100-'), 0);
  id.set(random.subarray(0, 12), 8);
  return id;
}
