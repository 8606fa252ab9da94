/**
 * Piece storage: blocks are received into memory, hashed, and each piece is SHA-1 verified
 * before it counts (BEP 3: `pieces` holds the SHA-1 of every piece).
 *
 * Hashing does not stall the socket loop: a piece is hashed incrementally, block by block, as
 * its blocks arrive in order (a 16 KiB `update` costs about 10 µs). A verified piece is written
 * with one gathered write (`writev`) per file it touches instead of one write per block; a
 * piece that fails its hash is never written.
 *
 * Memory is bounded whatever the torrent's size: blocks held for incomplete pieces are capped
 * by `maxBufferedBytes` (past it a piece's blocks are written early and the piece is hashed
 * from disk when complete), bytes not yet on disk by `maxQueuedBytes` (the session waits on
 * `whenWritable()` before reading more from its sockets), open files by `maxOpenFiles` (least
 * recently used handles are synced and closed, ./file-handles.ts).
 */
import { join } from 'node:path';
import { Bitfield } from '../bitfield';
import { checkRange, piecesOfRanges, readSegments, type Segment } from './block-reads';
import { ChangeWatch } from './change-watch';
import { fileStamps, type PreparedFile, prepareFile, prepareFiles } from './confined';
import { diskPaths } from './disk-paths';
import { FileHandles } from './file-handles';
import type { FileStamp, FileSystem, StorageFile } from './file-system';
import type { FileLayout } from './layout';
import { copyKeptBytes, type PartFiles } from './part-file';
import { type PieceHash, type PieceHashing, Sha1PieceHashing } from './piece-hashing';
import type { PieceCheck, PieceStoreOptions } from './piece-store-options';
import { StorageError } from './storage-error';
import { fileRuns, WriteBatches } from './write-batch';

export type { PieceCheck, PieceStoreOptions } from './piece-store-options';

interface Assembly {
  /** Incremental hash, or undefined when the piece will be hashed from disk. */
  hash: PieceHash | undefined;
  /** Bytes fed to `hash` so far (a prefix of the piece). */
  hashed: number;
  /** Received blocks not written yet, by offset. */
  blocks: Map<number, Uint8Array>;
  received: number;
  /** Writes of blocks spilled before the piece was complete. */
  writes: Promise<void>[];
}

export class PieceStore {
  readonly layout: FileLayout;
  /** Path elements of each file on disk, under `directory` (./disk-paths.ts). */
  readonly paths: readonly (readonly string[])[];
  readonly directory: string;
  private readonly fs: FileSystem;
  private readonly parts: PartFiles | undefined;
  /** After `prepare()`: files are opened without following links and never created again. */
  private confined = false;
  /** Notices files that change under a seeded piece (./change-watch.ts). */
  private readonly changes: ChangeWatch;
  /** Checks a piece's bytes against the metainfo (SHA-1, merkle or both). */
  readonly hashing: PieceHashing;
  private readonly maxQueuedBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly assemblies = new Map<number, Assembly>();
  /** Open files, least recently used closed first (./file-handles.ts). */
  private readonly handles: FileHandles;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Writes queued per file, adjacent ones merged across pieces (./write-batch.ts). */
  private readonly writes: WriteBatches;
  private writeWaiters: Array<() => void> = [];
  private queued = 0;
  private buffered = 0;
  private closed = false;

  constructor(options: PieceStoreOptions) {
    this.layout = options.layout;
    this.fs = options.fs;
    this.directory = options.directory;
    this.hashing =
      options.hashing ?? new Sha1PieceHashing(options.pieceHashes, this.layout.pieceCount);
    this.parts = options.parts;
    this.paths = diskPaths(this.layout, options.pathRules);
    this.changes = new ChangeWatch(this.layout, {
      stat: (file) => this.withFile(file, false, (f) => f.stat()),
      verify: (piece) => this.verifyPiece(piece),
      describe: (piece) => this.segmentFiles(piece),
      onChanged: options.onPieceChanged,
    });
    this.handles = new FileHandles({
      open: (index) =>
        this.parts?.isParked(index)
          ? this.parts.open(index)
          : this.fs.open(this.diskPath(index), this.confined ? 'existing' : 'any'),
      pathOf: (index) => this.diskPath(index),
      maxOpenFiles: options.maxOpenFiles ?? 32,
      track: (promise) => this.track(promise),
    });
    this.writes = new WriteBatches({
      withFile: (index, fn) => this.withFile(index, true, fn),
      // Our own writes: the file's new stamp is what a later change is compared with.
      written: async (index, file) => {
        if (this.confined) this.changes.known(index, await file.stat());
      },
    });
    this.maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.maxQueuedBytes = Math.max(
      options.maxQueuedBytes ?? 16 * 1024 * 1024,
      this.maxBufferedBytes + 1,
    );
  }

  /** Bytes of writes in flight. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** Bytes of blocks held in memory until their piece completes. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Number of file handles open now. */
  get openFiles(): number {
    return this.handles.size;
  }

  /** Absolute path of file `index` on disk. */
  diskPath(index: number): string {
    return join(this.directory, ...this.paths[index]!);
  }

  /**
   * Creates the directory, every directory of the torrent and every missing file (zero-length
   * files and all), without following or replacing anything that is there (./confined.ts).
   * From then on files are only opened, never created, and never through a symbolic link.
   * Returns, for each file (undefined for padding files), whether it was already there.
   */
  async prepare(): Promise<(PreparedFile | undefined)[]> {
    this.checkOpen();
    const parked = (i: number) => this.isParked(i);
    const out = await prepareFiles(this.fs, this.directory, this.layout, this.paths, parked);
    for (const i of this.parts?.parkedFiles ?? []) out[i] = await this.parts!.prepared(i);
    for (const [i, prepared] of out.entries()) if (prepared) this.changes.known(i, prepared.stamp);
    this.confined = true;
    return out;
  }

  /** Cuts (or extends) file `index` to `length` bytes (e.g. an overwritten longer file). */
  async truncateFile(index: number, length: number): Promise<void> {
    await this.withFile(index, true, async (file) => {
      await file.truncate(length);
      this.changes.known(index, await file.stat());
    });
  }

  /** Size and modification time of every file now (undefined for padding and missing files). */
  async fileStamps(): Promise<(FileStamp | undefined)[]> {
    const stamps = await fileStamps(this.fs, this.directory, this.layout, this.paths);
    for (const i of this.parts?.parkedFiles ?? []) stamps[i] = await this.parts!.stamp(i);
    return stamps;
  }

  /** File `index` is unselected and not on disk: its bytes are in a part file. */
  isParked(index: number): boolean {
    return this.parts?.isParked(index) ?? false;
  }

  /**
   * The parked file `index` was selected: creates it in the user's tree (confined, refusing a
   * file that is there already, ./confined.ts) and copies in the bytes of the `verified`
   * pieces kept in its part file. From then on its bytes go to the file itself.
   */
  async unpark(index: number, verified: (piece: number) => boolean): Promise<void> {
    const parts = this.parts;
    if (parts === undefined || !parts.isParked(index)) return;
    this.checkOpen();
    await this.flush();
    const view = await parts.open(index);
    const prepared = await prepareFile(this.fs, this.directory, this.paths[index]!);
    if (prepared.existed && prepared.stamp.size > 0) {
      await view.close();
      throw new StorageError(
        'FILE_EXISTS',
        `${this.diskPath(index)} appeared while the file was not selected: not overwriting it (move it away)`,
      );
    }
    // From here on writes go to the file itself; the verified bytes are copied under them.
    await this.handles.close(index);
    parts.unpark(index);
    try {
      await copyKeptBytes(this.layout, index, view, verified, (bytes, position) =>
        this.withFile(index, true, (file) => file.write(bytes, position)),
      );
      await this.withFile(index, true, async (file) => {
        await file.sync();
        this.changes.known(index, await file.stat());
      });
    } finally {
      await view.close();
    }
  }

  /** Resolves when the write queue is below its cap (at once when it is). */
  whenWritable(): Promise<void> {
    if (this.queued < this.maxQueuedBytes || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.writeWaiters.push(resolve));
  }

  /**
   * Takes one received block. Blocks are kept in memory and hashed in order as they arrive; when
   * the piece is complete and its SHA-1 matches, all its blocks are written with one gathered
   * write per file run (a piece that fails is never written). Resolves `undefined` at once
   * for a block that does not complete its piece, otherwise after the piece's writes with the
   * hash check. The caller passes each block of a piece once (the picker filters duplicates)
   * and must not modify `data` afterwards.
   */
  async writeBlock(
    piece: number,
    offset: number,
    data: Uint8Array,
  ): Promise<PieceCheck | undefined> {
    return this.receiveBlock(piece, offset, data);
  }

  /**
   * `writeBlock` without a promise per block (the download path's, issue #22): `undefined` at
   * once for a block that does not complete its piece, else a promise of the piece's check.
   * `data` is held as it is, usually a view into the socket's read buffer: copying it would
   * allocate every byte twice, and the buffer's other bytes are the neighbouring blocks, held
   * anyway until their pieces are written.
   */
  receiveBlock(piece: number, offset: number, data: Uint8Array): Promise<PieceCheck> | undefined {
    this.checkOpen();
    const size = checkRange(this.layout, piece, offset, data.length);
    let a = this.assemblies.get(piece);
    if (!a) {
      const hash = this.hashing.start(piece);
      a = { hash, hashed: 0, blocks: new Map(), received: 0, writes: [] };
      this.assemblies.set(piece, a);
    }
    a.blocks.set(offset, data);
    a.received += data.length;
    this.buffered += data.length;
    this.queued += data.length;
    if (a.hash !== undefined) {
      for (let next = a.blocks.get(a.hashed); next !== undefined; next = a.blocks.get(a.hashed)) {
        a.hash.update(next);
        a.hashed += next.length;
      }
    }
    if (a.received < size) {
      if (this.buffered > this.maxBufferedBytes) this.spill(piece, a);
      return undefined;
    }
    this.assemblies.delete(piece);
    return this.complete(piece, size, a);
  }

  /** The last block of `piece` arrived: check it, write it if it matches. */
  private async complete(piece: number, size: number, a: Assembly): Promise<PieceCheck> {
    if (a.hash !== undefined && a.hashed === size) {
      let ok: boolean;
      try {
        ok = this.hashing.check(piece, a.hash);
      } catch (error) {
        this.drop(a);
        throw error;
      }
      if (!ok) {
        this.drop(a);
        await Promise.allSettled(a.writes);
        return { piece, ok };
      }
      this.spill(piece, a);
      await Promise.all(a.writes);
      return { piece, ok };
    }
    this.spill(piece, a);
    await Promise.all(a.writes);
    return { piece, ok: this.hashing.check(piece, await this.hashFromDisk(piece)) };
  }

  /**
   * Forgets the blocks received for `piece` (its data on disk stays but does not count),
   * e.g. when the piece failed its hash or its partial download is abandoned.
   */
  discardPiece(piece: number): void {
    const a = this.assemblies.get(piece);
    if (!a) return;
    this.drop(a);
    this.assemblies.delete(piece);
  }

  /**
   * Reads `length` bytes of piece `piece` at `offset` (to serve a request). When a file of the
   * piece changed on disk since it was last checked (size or modification time), the piece is
   * re-verified first; if it no longer matches, `DATA_CHANGED` is thrown and nothing is served.
   */
  async readBlock(piece: number, offset: number, length: number): Promise<Uint8Array> {
    this.checkOpen();
    checkRange(this.layout, piece, offset, length);
    if (this.confined) await this.changes.check(piece);
    return this.readRange(piece, offset, length);
  }

  /**
   * Reads several ranges, as `readBlock` does each (to serve a group of requests, issue #22),
   * with each file's change check done once for them all. A range may run on past the end of
   * its piece into the following ones (consecutive requests across pieces): one read.
   */
  async readBlocks(
    ranges: readonly { piece: number; offset: number; length: number }[],
  ): Promise<Uint8Array[]> {
    this.checkOpen();
    const pieces = piecesOfRanges(this.layout, ranges);
    if (this.confined) await this.changes.checkAll(pieces);
    const { pieceLength } = this.layout;
    return Promise.all(
      ranges.map((r) =>
        this.readSegments(this.layout.span(r.piece * pieceLength + r.offset, r.length), r.length),
      ),
    );
  }

  private segmentFiles(piece: number): string {
    const names = this.layout
      .segments(piece, 0, this.layout.pieceSize(piece))
      .filter((s) => !this.layout.files[s.file]!.padding)
      .map((s) => this.diskPath(s.file));
    return names.join(', ');
  }

  /** Reads `length` bytes laid out in `segments` from the files (./block-reads.ts). */
  private readSegments(segments: readonly Segment[], length: number): Promise<Uint8Array> {
    return readSegments(this.layout, segments, length, (file, target, position) =>
      this.track(this.withFile(file, false, (f) => f.read(target, position))),
    );
  }

  /** Reads a range of a piece from the files, as they are. */
  private readRange(piece: number, offset: number, length: number): Promise<Uint8Array> {
    return this.readSegments(this.layout.segments(piece, offset, length), length);
  }

  /** Hashes piece `piece` from disk and compares it with its expected SHA-1. */
  async verifyPiece(piece: number): Promise<boolean> {
    try {
      return this.hashing.check(piece, await this.hashFromDisk(piece));
    } catch (error) {
      if (error instanceof StorageError && error.code === 'MISSING_DATA') return false;
      throw error;
    }
  }

  /**
   * Re-check: verifies every piece from the files on disk and returns the verified set.
   * Pieces whose files are missing or short are skipped without reading.
   */
  async recheck(onPiece?: (piece: number, ok: boolean) => void): Promise<Bitfield> {
    const have = new Bitfield(this.layout.pieceCount);
    const sizes = await Promise.all(
      this.layout.files.map((f, i) => (f.padding ? f.length : this.sizeOf(i))),
    );
    for (let piece = 0; piece < this.layout.pieceCount; piece++) {
      this.checkOpen();
      const present = this.layout
        .segments(piece, 0, this.layout.pieceSize(piece))
        .every((s) => (sizes[s.file] ?? 0) >= s.position + s.length);
      const ok = present && (await this.verifyPiece(piece));
      if (ok) have.set(piece);
      onPiece?.(piece, ok);
    }
    return have;
  }

  /** True when every file range of the piece exists on disk with its full length. */
  async piecePresent(piece: number): Promise<boolean> {
    for (const s of this.layout.segments(piece, 0, this.layout.pieceSize(piece))) {
      const f = this.layout.files[s.file]!;
      if (f.padding) continue;
      if (((await this.sizeOf(s.file)) ?? 0) < s.position + s.length) return false;
    }
    return true;
  }

  /** Waits for every write in flight, then syncs every written file (data is durable). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.handles.syncWritten();
  }

  /** Flushes and closes every file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => undefined);
    this.closed = true;
    for (const a of this.assemblies.values()) this.drop(a);
    this.assemblies.clear();
    await this.handles.closeAll();
    for (const w of this.writeWaiters.splice(0)) w();
  }

  /** Closes files without syncing (a simulated crash; tests only need this through `close`). */
  async abandon(): Promise<void> {
    this.closed = true;
    await this.handles.closeAll();
    for (const w of this.writeWaiters.splice(0)) w();
  }

  // --- internals ------------------------------------------------------------------------------

  /** Writes every buffered block of the piece now (complete piece, or memory pressure). */
  private spill(piece: number, a: Assembly): void {
    if (a.blocks.size === 0) return;
    const blocks = [...a.blocks].sort((x, y) => x[0] - y[0]);
    let bytes = 0;
    for (const [offset, block] of blocks) {
      // A block past the hashed prefix leaves memory unhashed: hash the piece from disk later.
      if (offset >= a.hashed) a.hash = undefined;
      bytes += block.length;
    }
    a.blocks.clear();
    this.buffered -= bytes;
    a.writes.push(this.track(this.writeBlocks(piece, blocks, bytes)));
  }

  /** Forgets buffered blocks without writing them. */
  private drop(a: Assembly): void {
    for (const block of a.blocks.values()) {
      this.buffered -= block.length;
      this.queued -= block.length;
    }
    a.blocks.clear();
    this.wakeWriters();
  }

  private async hashFromDisk(piece: number): Promise<PieceHash> {
    const size = this.layout.pieceSize(piece);
    const hash = this.hashing.start(piece);
    const chunk = 1024 * 1024;
    for (let offset = 0; offset < size; offset += chunk) {
      hash.update(await this.readRange(piece, offset, Math.min(chunk, size - offset)));
    }
    return hash;
  }

  /**
   * Writes sorted blocks of one piece: consecutive ranges of the same file become one gathered
   * write (`writev`), merged with the neighbouring pieces queued meanwhile (./write-batch.ts).
   */
  private async writeBlocks(
    piece: number,
    blocks: [number, Uint8Array][],
    bytes: number,
  ): Promise<void> {
    try {
      const runs = fileRuns(this.layout, piece, blocks);
      await Promise.all(runs.map((r) => this.writes.write(r.file, r.position, r.buffers)));
    } finally {
      this.queued -= bytes;
      this.wakeWriters();
    }
  }

  private wakeWriters(): void {
    if (this.queued < this.maxQueuedBytes && this.writeWaiters.length > 0) {
      for (const w of this.writeWaiters.splice(0)) w();
    }
  }

  private withFile<T>(
    index: number,
    write: boolean,
    fn: (file: StorageFile) => Promise<T>,
  ): Promise<T> {
    return this.handles.with(index, write, fn);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const done = (): void => {
      this.inFlight.delete(promise);
    };
    promise.then(done, done);
    return promise;
  }

  private async sizeOf(index: number): Promise<number | undefined> {
    if (this.parts?.isParked(index)) return (await this.parts.stamp(index))?.size;
    if (this.confined) {
      const entry = await this.fs.lstat(this.diskPath(index));
      return entry?.type === 'file' ? entry.size : undefined;
    }
    return this.fs.size(this.diskPath(index));
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', 'storage is closed');
  }
}
