/**
 * Noticing that a verified piece's file changed on disk (issue #14): each file's size and
 * modification time when we last checked or wrote it is kept; before a piece is served, the
 * stamps of its files are compared with `fstat`. A change makes every piece of the file suspect:
 * a suspect piece is hashed again before it is served, and one that no longer matches is never
 * served (reported once, until its file changes again).
 *
 * Limits: a change that keeps the size and lands within the file system's timestamp
 * granularity of our last look is not noticed; a file replaced by rename keeps being read
 * through the handle already open (the old, verified content).
 */
import type { FileStamp } from './file-system';
import type { FileLayout } from './layout';
import { StorageError } from './storage-error';

export interface ChangeWatchHooks {
  /** The file's stamp now (through its open handle). */
  stat(file: number): Promise<FileStamp>;
  /** Hashes the piece from disk against its expected SHA-1. */
  verify(piece: number): Promise<boolean>;
  /** Where the piece's files are, for the message. */
  describe(piece: number): string;
  /** Called once when a piece turns out changed. */
  onChanged?: ((piece: number, error: StorageError) => void) | undefined;
}

export class ChangeWatch {
  private readonly stamps: (FileStamp | undefined)[];
  /** Pieces whose file changed since they were verified: re-verified before being served. */
  private readonly suspect = new Set<number>();
  /** Pieces that failed that re-verification: not served until their file changes again. */
  private readonly changed = new Set<number>();

  constructor(
    private readonly layout: FileLayout,
    private readonly hooks: ChangeWatchHooks,
  ) {
    this.stamps = layout.files.map(() => undefined);
  }

  /** The file is as we know it (just checked, created or written by us). */
  known(file: number, stamp: FileStamp): void {
    this.stamps[file] = stamp;
  }

  /** Throws `DATA_CHANGED` when the piece must not be served (see the module comment). */
  check(piece: number): Promise<void> {
    return this.checkAll([piece]);
  }

  /**
   * `check` for several pieces about to be served together (a group of requests, issue #22):
   * each of their files is `fstat`ed once for all of them.
   */
  async checkAll(pieces: readonly number[]): Promise<void> {
    const files = new Set<number>();
    for (const piece of pieces) {
      for (const s of this.layout.segments(piece, 0, this.layout.pieceSize(piece))) {
        if (!this.layout.files[s.file]!.padding) files.add(s.file);
      }
    }
    for (const file of files) {
      const now = await this.hooks.stat(file);
      const before = this.stamps[file];
      if (before !== undefined && before.size === now.size && before.mtimeNs === now.mtimeNs)
        continue;
      this.stamps[file] = now;
      const { first, last } = this.layout.piecesOfFile(file);
      for (let p = first; p <= last; p++) {
        this.suspect.add(p);
        this.changed.delete(p);
      }
    }
    for (const piece of pieces) await this.verdict(piece);
  }

  private async verdict(piece: number): Promise<void> {
    const error = () =>
      new StorageError(
        'DATA_CHANGED',
        `piece ${piece} changed on disk (${this.hooks.describe(piece)}) and no longer matches the torrent: not serving it`,
      );
    if (this.changed.has(piece)) throw error(); // reported already
    if (!this.suspect.has(piece)) return;
    const ok = await this.hooks.verify(piece);
    this.suspect.delete(piece);
    if (ok) return;
    this.changed.add(piece);
    const failure = error();
    this.hooks.onChanged?.(piece, failure);
    throw failure;
  }
}
