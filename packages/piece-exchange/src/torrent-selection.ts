/**
 * A torrent's file selection at run time: the file priorities (`TorrentOptions.filePriorities`,
 * else a magnet's BEP 53 `so=`, else every file `normal`), turned into piece priorities for the
 * picker (./file-priorities.ts), and changed while the session runs (`Torrent.setFilePriorities`):
 * a parked file that becomes selected is created and given the bytes its part file kept.
 */
import {
  checkPriorities,
  type FilePriority,
  piecePriorities,
  prioritiesFromSelectOnly,
} from './file-priorities';
import { parseMagnet } from './magnet';
import type { Content } from './session/peer-host';
import type { LayoutFileInput } from './storage/layout';
import type { TorrentOptions } from './torrent-options';

/** The priorities a session starts with, once the file count is known. */
export function initialPriorities(
  options: Pick<TorrentOptions, 'filePriorities' | 'magnet'>,
  files: readonly LayoutFileInput[],
): FilePriority[] {
  const fileCount = files.length;
  const given = options.filePriorities;
  if (given !== undefined) {
    const priorities = typeof given === 'function' ? given(files) : given;
    checkPriorities(fileCount, priorities);
    return [...priorities];
  }
  const magnet = typeof options.magnet === 'string' ? parseMagnet(options.magnet) : options.magnet;
  // BEP 53: "so" selects the files to download; the others are not downloaded.
  if (magnet?.selectOnly !== undefined && magnet.selectOnly.length > 0) {
    return prioritiesFromSelectOnly(fileCount, magnet.selectOnly);
  }
  return new Array<FilePriority>(fileCount).fill('normal');
}

/**
 * The priorities that download only `indices` (counted from 0): those keep their priority
 * (`normal` when skipped so far), every other file is skipped.
 */
export function selectedPriorities(
  current: readonly FilePriority[],
  indices: Iterable<number>,
): FilePriority[] {
  const chosen = new Set(indices);
  for (const i of chosen) {
    if (!Number.isInteger(i) || i < 0 || i >= current.length) {
      throw new RangeError(`no file ${i} (the torrent has ${current.length} files)`);
    }
  }
  return current.map((p, i) => (chosen.has(i) ? (p === 'skip' ? 'normal' : p) : 'skip'));
}

/**
 * A skipped file is not downloaded and, when not on disk, never created: its bytes in pieces
 * shared with selected files are kept in a part file (./storage/part-file.ts) and moved into it
 * when it is selected later. The torrent is `done` when every selected file is complete.
 */
export class FileSelection {
  #priorities: FilePriority[];

  constructor(priorities: readonly FilePriority[]) {
    this.#priorities = [...priorities];
  }

  get priorities(): readonly FilePriority[] {
    return this.#priorities;
  }

  /** Sets every piece's priority in the picker from the file priorities. */
  apply(content: Content): void {
    const levels = piecePriorities(content.store.layout, this.#priorities);
    for (let piece = 0; piece < levels.length; piece++)
      content.picker.setPriority(piece, levels[piece]!);
  }

  /**
   * New file priorities: parked files now selected are created and given their kept bytes
   * first (so that nothing written from then on goes to a part file), then the picker follows.
   */
  async change(content: Content, priorities: readonly FilePriority[]): Promise<void> {
    const { store } = content;
    checkPriorities(store.layout.files.length, priorities);
    for (const [i, p] of priorities.entries()) {
      if (p !== 'skip' && store.isParked(i))
        await store.unpark(i, (piece) => content.have.has(piece));
    }
    this.#priorities = [...priorities];
    this.apply(content);
  }
}
