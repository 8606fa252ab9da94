/** What a `PieceStore` (./piece-store.ts) is given, and what it answers for a completed piece. */

import type { PathRules } from './disk-paths';
import type { FileSystem } from './file-system';
import type { FileLayout } from './layout';
import type { PartFiles } from './part-file';
import type { PieceHashing } from './piece-hashing';
import type { StorageError } from './storage-error';

export interface PieceStoreOptions {
  fs: FileSystem;
  /** Directory the torrent's files are stored under. */
  directory: string;
  layout: FileLayout;
  /** The 20-byte SHA-1 of every piece, concatenated (the info dictionary's `pieces`). */
  pieceHashes: Uint8Array;
  /**
   * How pieces are checked, when not by `pieceHashes` alone: BEP 52 merkle roots for v2
   * torrents, both for hybrids (./v2-verify.ts).
   */
  hashing?: PieceHashing;
  /** Most file handles kept open (default 32). */
  maxOpenFiles?: number;
  /** Most bytes received but not written before `whenWritable()` waits (default 16 MiB). */
  maxQueuedBytes?: number;
  /**
   * Most bytes of blocks held in memory until their piece completes (default 8 MiB); past it,
   * a piece's blocks are written at once and the piece is hashed from disk if needed.
   */
  maxBufferedBytes?: number;
  /** Name rules for the files on disk (default: the platform's; see ./disk-paths.ts). */
  pathRules?: PathRules;
  /**
   * A verified piece was about to be served, its file had changed on disk since it was checked,
   * and it no longer matches its hash: it is not served (the read throws `DATA_CHANGED`).
   */
  onPieceChanged?: (piece: number, error: StorageError) => void;
  /**
   * Unselected files that are not on disk: their bytes (of pieces shared with a selected file)
   * are kept in part files (./part-file.ts), never in the user's tree.
   */
  parts?: PartFiles;
}

export interface PieceCheck {
  readonly piece: number;
  /** The piece's SHA-1 matched: it is verified and its data written. */
  readonly ok: boolean;
}
