/**
 * Reading blocks back from the files, to serve requests and to hash from disk: the range checks
 * of a request (BEP 3 `request`: a block lies inside its piece, a run of requests inside the
 * torrent) and the read of a range laid out over the torrent's files (BEP 47 padding files are
 * zeros, never read).
 */
import type { FileLayout } from './layout';
import { StorageError } from './storage-error';

/** A range's part in one file: `length` bytes at `position` in file `file`, at `at` in the range. */
export interface Segment {
  readonly file: number;
  readonly position: number;
  readonly length: number;
  readonly at: number;
}

/** Throws `OUT_OF_RANGE` unless `offset + length` lies inside piece `piece`; its size otherwise. */
export function checkRange(
  layout: FileLayout,
  piece: number,
  offset: number,
  length: number,
): number {
  if (!Number.isInteger(piece) || piece < 0 || piece >= layout.pieceCount) {
    throw new StorageError('OUT_OF_RANGE', `piece ${piece} out of range`);
  }
  const size = layout.pieceSize(piece);
  if (!Number.isInteger(offset) || offset < 0 || length < 0 || offset + length > size) {
    throw new StorageError('OUT_OF_RANGE', `block ${offset}+${length} outside piece ${piece}`);
  }
  return size;
}

/**
 * The pieces a group of ranges touches; each range starts inside its piece and may run on into
 * the following pieces (consecutive requests served in one read), never past the torrent's end.
 */
export function piecesOfRanges(
  layout: FileLayout,
  ranges: readonly { piece: number; offset: number; length: number }[],
): number[] {
  const pieces = new Set<number>();
  const { pieceLength, totalLength } = layout;
  for (const r of ranges) {
    const start = r.piece * pieceLength + r.offset;
    checkRange(layout, r.piece, r.offset, Math.min(r.length, layout.pieceSize(r.piece) - r.offset));
    if (start + r.length > totalLength) {
      throw new StorageError('OUT_OF_RANGE', `block ${r.offset}+${r.length} outside the torrent`);
    }
    for (let p = r.piece; p * pieceLength < start + r.length; p++) pieces.add(p);
  }
  return [...pieces];
}

/**
 * Reads `length` bytes laid out in `segments` with `read` (bytes read into `target` from
 * `position` of file `file`); a file shorter than the layout says is `MISSING_DATA`.
 */
export async function readSegments(
  layout: FileLayout,
  segments: readonly Segment[],
  length: number,
  read: (file: number, target: Uint8Array, position: number) => Promise<number>,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (const s of segments) {
    const f = layout.files[s.file]!;
    if (f.padding) continue; // BEP 47: padding bytes are zeros
    const n = await read(s.file, out.subarray(s.at, s.at + s.length), s.position);
    if (n < s.length) {
      throw new StorageError('MISSING_DATA', `file ${f.path.join('/')} is shorter than expected`);
    }
  }
  return out;
}
