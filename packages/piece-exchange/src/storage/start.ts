/**
 * What a session may count as verified when it opens its files, and what it may write to.
 *
 * 1. Every directory and missing file is created under the download directory, never through
 *    a symbolic link (`PieceStore.prepare`, ./confined.ts). Zero-length files are created too.
 * 2. A piece listed in resume data counts only when every file it touches still has the size
 *    and modification time recorded with it, in the recorded directory (as libtorrent's resume
 *    data). Every other piece touching a file that was already there is hashed from disk.
 * 3. A file that was already there is never overwritten unless it is this torrent's data:
 *    recorded in our resume data (a download of ours), empty, or holding at least one piece that
 *    verifies (resumed as Transmission and aria2's `--check-integrity` do). Anything else is
 *    refused with `FILE_EXISTS`, as is a file longer than the torrent's, unless the caller
 *    allows overwriting (`existing: 'overwrite'`: then a longer file is cut to its length).
 *    A file with other hard links (maybe a file elsewhere under another name) is never written
 *    to, even then: it is only read, when complete.
 * 4. The claim is recorded at once: resume data with the files' stamps is saved before any
 *    block is written, so a download killed at any point is recognised as ours when restarted
 *    (not with `assumeComplete`: complete content is not written to).
 */
import { Bitfield } from '../bitfield';
import type { FileStamp, FileSystem } from './file-system';
import type { PieceStore } from './piece-store';
import { loadResumeData, type ResumeData, type ResumeKey, saveResume } from './resume';
import { StorageError } from './storage-error';

/** What to do with a file that is already where the torrent's file goes. */
export type ExistingFilePolicy = 'verify' | 'overwrite';

export interface StartOptions {
  /** Hash every piece whose files were there, ignoring resume data's verified set. */
  readonly recheck?: boolean;
  /**
   * The caller vouches that the files hold every piece (it just hashed them): pieces whose
   * files are at full size count without hashing.
   */
  readonly assumeComplete?: boolean;
  /** Default `verify` (see the module comment). */
  readonly existing?: ExistingFilePolicy;
  /**
   * Progress of a check that hashes files (a re-check, or files not covered by resume data):
   * called after each piece in order. If it throws (e.g. an aborted signal's
   * `throwIfAborted()`), the check stops there and the error propagates.
   */
  readonly onPiece?: (piece: number, ok: boolean) => void;
}

function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

async function readResume(
  fs: FileSystem,
  path: string | undefined,
  infoHash: Uint8Array | ResumeKey,
  store: PieceStore,
): Promise<ResumeData | undefined> {
  if (path === undefined) return undefined;
  try {
    const data = await loadResumeData(fs, path, infoHash, store.layout.pieceCount);
    // Resume data of the same torrent stored elsewhere says nothing about these files.
    if (data === undefined || data.directory !== store.directory) return undefined;
    if (data.stamps.length !== store.layout.files.length) return undefined;
    return data;
  } catch (error) {
    if (error instanceof StorageError && error.code === 'INVALID_RESUME') return undefined;
    throw error;
  }
}

/**
 * Prepares the files and returns the pieces a session may count as verified (see the module
 * comment). Throws `StorageError` `PATH_CONFLICT`, `UNSAFE_PATH`, `FILE_EXISTS` or `IO_ERROR`
 * when the files cannot be used; nothing was overwritten then.
 */
export async function verifiedAtStart(
  fs: FileSystem,
  path: string | undefined,
  infoHash: Uint8Array | ResumeKey,
  store: PieceStore,
  options: StartOptions = {},
): Promise<Bitfield> {
  const { layout } = store;
  const prepared = await store.prepare();
  const resume = await readResume(fs, path, infoHash, store);
  const overwrite = options.existing === 'overwrite';

  // Longer than the torrent's file: not this torrent's data as it is; cut only when allowed.
  for (const [i, p] of prepared.entries()) {
    const length = layout.files[i]!.length;
    if (p === undefined || !p.existed || p.stamp.size <= length) continue;
    if (!overwrite || p.linked) {
      throw new StorageError(
        'FILE_EXISTS',
        `${store.diskPath(i)} already exists and is longer than the torrent's file (${p.stamp.size} > ${length} bytes): not overwriting it (move it away, or allow overwriting)`,
      );
    }
    await store.truncateFile(i, length);
  }
  const stamps = await store.fileStamps();
  const existed = prepared.map((p) => p?.existed ?? false);
  const trusted = stamps.map(
    (stamp, i) =>
      options.assumeComplete === true ||
      (existed[i]! && !options.recheck && sameStamp(stamp, resume?.stamps[i])),
  );
  const sizes = stamps.map((s, i) =>
    layout.files[i]!.padding ? layout.files[i]!.length : (s?.size ?? 0),
  );
  const present = (piece: number) =>
    layout
      .segments(piece, 0, layout.pieceSize(piece))
      .every((s) => sizes[s.file]! >= s.position + s.length);
  const touches = (piece: number, which: readonly boolean[]) =>
    layout
      .segments(piece, 0, layout.pieceSize(piece))
      .some((s) => !layout.files[s.file]!.padding && which[s.file]);
  const allTrusted = (piece: number) =>
    layout
      .segments(piece, 0, layout.pieceSize(piece))
      .every((s) => layout.files[s.file]!.padding || trusted[s.file]);

  const have = new Bitfield(layout.pieceCount);
  const untrustedExisting = existed.map((e, i) => e && !trusted[i]);
  const progress = untrustedExisting.some(Boolean) ? options.onPiece : undefined;
  for (let piece = 0; piece < layout.pieceCount; piece++) {
    if (!present(piece)) {
      // Nothing of it on disk to check.
    } else if (options.assumeComplete) {
      have.set(piece);
    } else if (allTrusted(piece)) {
      if (resume?.pieces.has(piece)) have.set(piece);
    } else if (touches(piece, untrustedExisting) && (await store.verifyPiece(piece))) {
      have.set(piece);
    }
    progress?.(piece, have.has(piece));
  }

  // A file that was there, is not ours and holds none of the torrent's pieces: refuse it.
  if (!overwrite) {
    for (const [i, p] of prepared.entries()) {
      if (p === undefined || !p.existed || p.stamp.size === 0) continue;
      if (resume?.stamps[i] !== undefined || options.assumeComplete) continue;
      if (store.isParked(i)) continue; // its part file is ours (./part-file.ts)
      const { first, last } = layout.piecesOfFile(i);
      let matches = false;
      for (let piece = first; piece <= last && !matches; piece++) matches = have.has(piece);
      if (!matches) {
        throw new StorageError(
          'FILE_EXISTS',
          `${store.diskPath(i)} already exists and is not this torrent's data (none of its pieces match): not overwriting it (move it away, or allow overwriting)`,
        );
      }
    }
  }
  // A file with other names (hard links) may be a file outside the directory under another
  // name: it is never written to, even with `overwrite` (complete, it is only read).
  for (const [i, p] of prepared.entries()) {
    if (p === undefined || !p.linked) continue;
    const { first, last } = layout.piecesOfFile(i);
    for (let piece = first; piece <= last; piece++) {
      if (have.has(piece)) continue;
      throw new StorageError(
        'UNSAFE_PATH',
        `${store.diskPath(i)} has other hard links (it may be a file elsewhere): refusing to write to it (copy it, or move it away)`,
      );
    }
  }
  // Record the claim before the first block is written (see the module comment). Content the
  // caller vouches for is complete: nothing will be written.
  if (path !== undefined && !options.assumeComplete)
    await saveResume(fs, path, infoHash, have, store);
  return have;
}
