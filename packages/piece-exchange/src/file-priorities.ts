/**
 * File selection and priorities: which files of a torrent to download, and which first.
 *
 * Each file has a priority, `skip`, `normal` (the default) or `high`, as libtorrent's
 * `file_priority` (0, 4, 7) or Transmission's "unwanted / normal / high". A piece's priority is
 * the highest of the files it holds bytes of (padding files, BEP 47, do not count), so a piece at
 * the boundary of a skipped file and a selected one is downloaded: the skipped file's bytes of it
 * are kept aside in a part file (./storage/part-file.ts), never written into the user's tree.
 *
 * BEP 53 `so=` in a magnet link and `peerkit-share get --select` both come down to a set of
 * selected file indices (`prioritiesFromSelection`).
 */
import type { FileIndexRange } from './magnet';
import type { FileLayout } from './storage/layout';

export type FilePriority = 'skip' | 'normal' | 'high';

/** The picker's piece priority level of each file priority (./picker.ts `setPriority`). */
export const PRIORITY_LEVEL: Readonly<Record<FilePriority, number>> = {
  skip: 0,
  normal: 1,
  high: 2,
};

export function isFilePriority(value: unknown): value is FilePriority {
  return value === 'skip' || value === 'normal' || value === 'high';
}

/**
 * The priority of every piece: the highest priority among the non-padding files it overlaps
 * (0 when it overlaps only skipped files). Costs O(pieces + files).
 */
export function piecePriorities(
  layout: FileLayout,
  priorities: readonly FilePriority[],
): Uint8Array {
  checkPriorities(layout.files.length, priorities);
  const out = new Uint8Array(layout.pieceCount);
  for (const [i, f] of layout.files.entries()) {
    if (f.padding || f.length === 0) continue;
    const level = PRIORITY_LEVEL[priorities[i]!];
    if (level === 0) continue;
    const { first, last } = layout.piecesOfFile(i);
    for (let piece = first; piece <= last; piece++) if (out[piece]! < level) out[piece] = level;
  }
  return out;
}

/** `normal` for the selected file indices (counted from 0), `skip` for the others. */
export function prioritiesFromSelection(
  fileCount: number,
  selected: Iterable<number>,
): FilePriority[] {
  const out = new Array<FilePriority>(fileCount).fill('skip');
  for (const i of selected) {
    if (!Number.isInteger(i) || i < 0 || i >= fileCount) {
      throw new RangeError(`file index ${i} is out of range (the torrent has ${fileCount} files)`);
    }
    out[i] = 'normal';
  }
  return out;
}

/**
 * BEP 53 `so` ranges (file indices counted from 0, inclusive ranges) as priorities: `normal`
 * for the files they name, `skip` for the others; indices past the last file are ignored, as
 * the BEP does not say what they mean and libtorrent ignores them too.
 */
export function prioritiesFromSelectOnly(
  fileCount: number,
  ranges: readonly FileIndexRange[],
): FilePriority[] {
  const out = new Array<FilePriority>(fileCount).fill('skip');
  for (const [start, end] of ranges) {
    for (let i = start; i <= Math.min(end, fileCount - 1); i++) out[i] = 'normal';
  }
  return out;
}

export function checkPriorities(fileCount: number, priorities: readonly FilePriority[]): void {
  if (priorities.length !== fileCount) {
    throw new RangeError(
      `${priorities.length} file priorities given for a torrent of ${fileCount} files`,
    );
  }
  for (const p of priorities) {
    if (!isFilePriority(p)) throw new RangeError(`unknown file priority ${String(p)}`);
  }
}
