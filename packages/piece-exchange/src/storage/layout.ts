/**
 * The file layout: a torrent's files laid end to end form one byte stream that is cut into
 * pieces (BEP 3, "info dictionary", multi-file mode). A block of a piece can span several
 * files; `FileLayout.segments` maps it onto (file, position, length) ranges. BEP 47 padding
 * files take part in the layout but are never written: their bytes are zeros.
 */

export interface LayoutFileInput {
  /** Path elements relative to the torrent's directory (the first is the torrent name). */
  readonly path: readonly string[];
  readonly length: number;
  /** BEP 47 `attr` contains `p`: a padding file (all zeros, not stored). */
  readonly padding?: boolean;
}

export interface LayoutFile extends LayoutFileInput {
  /** Offset of the file's first byte in the torrent's byte stream. */
  readonly offset: number;
  readonly padding: boolean;
}

export interface Segment {
  readonly file: number;
  /** Position inside the file. */
  readonly position: number;
  readonly length: number;
  /** Offset of this segment inside the requested range. */
  readonly at: number;
}

export class FileLayout {
  readonly files: readonly LayoutFile[];
  readonly totalLength: number;
  readonly pieceLength: number;
  readonly pieceCount: number;

  constructor(files: readonly LayoutFileInput[], pieceLength: number) {
    if (!Number.isInteger(pieceLength) || pieceLength <= 0) throw new RangeError('bad pieceLength');
    let offset = 0;
    const out: LayoutFile[] = [];
    for (const f of files) {
      if (!Number.isSafeInteger(f.length) || f.length < 0) throw new RangeError('bad file length');
      for (const part of f.path) {
        if (part === '' || part === '.' || part === '..' || /[/\\\0]/.test(part)) {
          throw new RangeError(`unsafe path element ${JSON.stringify(part)}`);
        }
      }
      out.push({ path: f.path, length: f.length, offset, padding: f.padding ?? false });
      offset += f.length;
    }
    if (offset === 0) throw new RangeError('a torrent needs at least one byte');
    this.files = out;
    this.totalLength = offset;
    this.pieceLength = pieceLength;
    this.pieceCount = Math.ceil(offset / pieceLength);
  }

  pieceSize(piece: number): number {
    return piece === this.pieceCount - 1
      ? this.totalLength - (this.pieceCount - 1) * this.pieceLength
      : this.pieceLength;
  }

  /** The file ranges that hold `length` bytes at `offset` in piece `piece`. */
  segments(piece: number, offset: number, length: number): Segment[] {
    const start = piece * this.pieceLength + offset;
    const end = start + length;
    if (
      offset < 0 ||
      length < 0 ||
      end > this.totalLength ||
      offset + length > this.pieceSize(piece)
    ) {
      throw new RangeError(`range ${piece}/${offset}+${length} is outside the torrent`);
    }
    return this.span(start, length);
  }

  /**
   * The file ranges that hold `length` bytes from byte `start` of the torrent, across piece
   * boundaries (`at`: offset in the range). The caller checks the range is inside the torrent.
   */
  span(start: number, length: number): Segment[] {
    const end = start + length;
    const out: Segment[] = [];
    let i = this.fileAt(start);
    let position = start;
    while (position < end && i < this.files.length) {
      const f = this.files[i]!;
      const fileEnd = f.offset + f.length;
      const take = Math.min(end, fileEnd) - position;
      if (take > 0) {
        out.push({ file: i, position: position - f.offset, length: take, at: position - start });
        position += take;
      }
      i++;
    }
    return out;
  }

  /** The pieces that overlap file `file`. */
  piecesOfFile(file: number): { first: number; last: number } {
    const f = this.files[file]!;
    const first = Math.floor(f.offset / this.pieceLength);
    const last = f.length === 0 ? first : Math.floor((f.offset + f.length - 1) / this.pieceLength);
    return { first, last };
  }

  /** Index of the file holding byte `offset` (skipping empty files). */
  private fileAt(offset: number): number {
    let lo = 0;
    let hi = this.files.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.files[mid]!.offset <= offset) lo = mid;
      else hi = mid - 1;
    }
    // Several empty files can share an offset; the loop in `segments` skips them.
    while (lo > 0 && this.files[lo - 1]!.offset === offset) lo--;
    return lo;
  }
}
