/**
 * Part files: where the bytes of an unselected file go when they share a piece with a selected
 * one (libtorrent's `part_file`, Transmission's `.part`).
 *
 * A piece at the boundary of a skipped file and a selected file must be downloaded whole to be
 * verified (BEP 3 hashes whole pieces), so some bytes of the skipped file arrive. They are never
 * written into the user's tree (that would leave a truncated, mostly empty file there): a skipped
 * file that is not on disk is "parked", and its bytes go to a part file in the state area,
 * `<state>/<info-hash>.parts/<file index>`, next to the resume data. When the user selects the
 * file later, `PieceStore.unpark` creates it and copies those bytes in.
 *
 * Only a file's first and last piece can be shared with another file, so a part file holds at
 * most two pieces' worth: the file's head (from its start to the end of its first piece) then
 * its tail (from the start of its last piece to its end), back to back. A file within one or two
 * pieces is kept whole.
 */
import { isAbsolute, join, relative, sep } from 'node:path';
import { ensureParents, type PreparedFile } from './confined';
import type { FileStamp, FileSystem, StorageFile } from './file-system';
import type { FileLayout } from './layout';
import { StorageError } from './storage-error';

/** Where a file's bytes sit in its part file. */
export interface PartRegion {
  /** Bytes `[0, headEnd)` of the file are at the same position in the part file. */
  readonly headEnd: number;
  /** Bytes `[tailStart, length)` of the file follow the head in the part file. */
  readonly tailStart: number;
  readonly length: number;
  /** Length of the part file when it holds all of them. */
  readonly partLength: number;
}

export function partRegion(layout: FileLayout, file: number): PartRegion {
  const f = layout.files[file]!;
  const { first, last } = layout.piecesOfFile(file);
  const headEnd = Math.min(f.length, (first + 1) * layout.pieceLength - f.offset);
  const tailStart = Math.max(headEnd, last * layout.pieceLength - f.offset);
  return { headEnd, tailStart, length: f.length, partLength: headEnd + f.length - tailStart };
}

/** The state directory of part files: beside the resume data. */
export function partsDirectory(
  resume: false | string | undefined,
  directory: string,
  infoHash: Uint8Array,
): string {
  const hex = Buffer.from(infoHash).toString('hex');
  if (typeof resume === 'string') return `${resume.replace(/\.resume$/, '')}.parts`;
  return join(directory, '.peerkit', `${hex}.parts`);
}

export class PartFiles {
  readonly directory: string;
  readonly #fs: FileSystem;
  readonly #layout: FileLayout;
  /** The download directory: part files inside it are reached without following links. */
  readonly #root: string;
  readonly #parked = new Set<number>();

  constructor(fs: FileSystem, directory: string, layout: FileLayout, root: string) {
    this.#fs = fs;
    this.directory = directory;
    this.#layout = layout;
    this.#root = root;
  }

  /** File `file` is not selected and not on disk: its bytes go to its part file. */
  park(file: number): void {
    this.#parked.add(file);
  }

  /** The file was selected: from now on it is on disk (the caller copies the bytes). */
  unpark(file: number): void {
    this.#parked.delete(file);
  }

  isParked(file: number): boolean {
    return this.#parked.has(file);
  }

  get parkedFiles(): readonly number[] {
    return [...this.#parked].sort((a, b) => a - b);
  }

  pathOf(file: number): string {
    return join(this.directory, String(file));
  }

  region(file: number): PartRegion {
    return partRegion(this.#layout, file);
  }

  /**
   * The file's stamp as the store sees it: the part file's modification time, and the length of
   * the file's bytes it holds (the whole file's length once its tail is in).
   */
  async stamp(file: number): Promise<FileStamp | undefined> {
    const entry = await this.#fs.lstat(this.pathOf(file));
    if (entry?.type !== 'file') return undefined;
    return { size: this.#logicalSize(file, entry.size), mtimeNs: entry.mtimeNs };
  }

  /** What `prepare` reports for a parked file: nothing is created in the user's tree. */
  async prepared(file: number): Promise<PreparedFile | undefined> {
    const stamp = await this.stamp(file);
    return {
      existed: stamp !== undefined,
      stamp: stamp ?? { size: 0, mtimeNs: 0n },
      linked: false,
    };
  }

  /** The file seen through its part file: positions of the file mapped to the part file's. */
  open(file: number): Promise<StorageFile> {
    const path = this.pathOf(file);
    return Promise.resolve(
      new PartView(this.#fs, path, this.region(file), () => this.#create(path)),
    );
  }

  /**
   * Opens (creating) a part file. Inside the download directory (the default state area) no
   * symbolic link is followed on the way, as for the torrent's own files (docs/security.md).
   */
  async #create(path: string): Promise<StorageFile> {
    const inside = relative(this.#root, path);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      return this.#fs.open(path, 'any');
    }
    await ensureParents(this.#fs, this.#root, inside.split(sep));
    const there = await this.#fs.lstat(path);
    return this.#fs.open(path, there === undefined ? 'create' : 'existing');
  }

  #logicalSize(file: number, partSize: number): number {
    const r = this.region(file);
    return partSize >= r.partLength ? r.length : Math.min(partSize, r.headEnd);
  }
}

/** One parked file's bytes, opened lazily (the part file is created by the first write). */
/**
 * Copies the bytes of file `index` that its part file kept (from its first and last pieces, the
 * ones it shares with neighbouring files) into the file itself, for the `verified` pieces only:
 * the file was selected after those pieces were downloaded.
 */
export async function copyKeptBytes(
  layout: FileLayout,
  index: number,
  view: StorageFile,
  verified: (piece: number) => boolean,
  write: (bytes: Uint8Array, position: number) => Promise<unknown>,
): Promise<void> {
  if (layout.files[index]!.length === 0) return;
  const { first, last } = layout.piecesOfFile(index);
  for (const piece of new Set([first, last])) {
    if (!verified(piece)) continue;
    for (const s of layout.segments(piece, 0, layout.pieceSize(piece))) {
      if (s.file !== index) continue;
      const bytes = new Uint8Array(s.length);
      if ((await view.read(bytes, s.position)) < s.length) continue;
      await write(bytes, s.position);
    }
  }
}

class PartView implements StorageFile {
  readonly #fs: FileSystem;
  readonly #path: string;
  readonly #region: PartRegion;
  readonly #create: () => Promise<StorageFile>;
  #file: StorageFile | undefined;

  constructor(
    fs: FileSystem,
    path: string,
    region: PartRegion,
    create: () => Promise<StorageFile>,
  ) {
    this.#fs = fs;
    this.#path = path;
    this.#region = region;
    this.#create = create;
  }

  /** Position in the part file of `length` bytes at `position` of the file. */
  #map(position: number, length: number): number {
    const { headEnd, tailStart } = this.#region;
    if (position + length <= headEnd) return position;
    if (position >= tailStart) return headEnd + position - tailStart;
    throw new StorageError(
      'OUT_OF_RANGE',
      `bytes ${position}+${length} of an unselected file are not at a piece it shares with a selected file`,
    );
  }

  async #open(create: boolean): Promise<StorageFile | undefined> {
    if (this.#file !== undefined) return this.#file;
    if (!create && (await this.#fs.lstat(this.#path)) === undefined) return undefined;
    this.#file = await this.#create();
    return this.#file;
  }

  async read(buffer: Uint8Array, position: number): Promise<number> {
    const at = this.#map(position, buffer.length);
    const file = await this.#open(false);
    return file === undefined ? 0 : file.read(buffer, at);
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    const at = this.#map(position, data.length);
    await (await this.#open(true))!.write(data, at);
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    const length = buffers.reduce((n, b) => n + b.length, 0);
    const at = this.#map(position, length);
    await (await this.#open(true))!.writev(buffers, at);
  }

  async sync(): Promise<void> {
    await this.#file?.sync();
  }

  async truncate(): Promise<void> {
    throw new StorageError('OUT_OF_RANGE', 'an unselected file is not cut');
  }

  async stat(): Promise<FileStamp> {
    const entry = await this.#fs.lstat(this.#path);
    if (entry === undefined) return { size: 0, mtimeNs: 0n };
    const r = this.#region;
    return {
      size: entry.size >= r.partLength ? r.length : Math.min(entry.size, r.headEnd),
      mtimeNs: entry.mtimeNs,
    };
  }

  async close(): Promise<void> {
    await this.#file?.close();
    this.#file = undefined;
  }
}
