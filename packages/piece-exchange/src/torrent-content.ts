/**
 * A torrent's content once its info dictionary is known: the files on disk (created safely under
 * the download directory, locked against a second writer), the pieces already verified, and the
 * picker seeded with them.
 */
import type { Random } from '@peerkit/transport';
import type { FilePriority } from './file-priorities';
import { PiecePicker } from './picker';
import type { Content } from './session/peer-host';
import type { FileSystem } from './storage/file-system';
import { FileLayout } from './storage/layout';
import { lockTorrentFiles, type StorageLock } from './storage/lock';
import { PartFiles, partsDirectory } from './storage/part-file';
import { PieceStore } from './storage/piece-store';
import type { TorrentInfo } from './torrent-info';
import type { ResumeSaver } from './torrent-resume';
import { FileSelection } from './torrent-selection';
import { v2Hashing } from './v2/hashing';
import { torrentGeometry } from './wire/decoder';

export interface OpenContentOptions {
  fs: FileSystem;
  directory: string;
  /** Lock the files against a second writer (only meaningful on the real file system). */
  lock: boolean;
  random: Random;
  sequential: boolean;
  resume: ResumeSaver;
  /** A seeded piece whose file changed on disk and no longer matches: not served, reported. */
  onPieceChanged: (error: Error) => void;
  /** Per file (./file-priorities.ts); unselected files not on disk get part files. */
  priorities: readonly FilePriority[];
  /** The resume option (part files live beside resume data). */
  resumePath: false | string | undefined;
}

/** Opens the content of `info`; on failure nothing stays open or locked. */
export async function openContent(
  info: TorrentInfo,
  options: OpenContentOptions,
): Promise<{ content: Content; lock: StorageLock | undefined; selection: FileSelection }> {
  const layout = new FileLayout(info.files, info.pieceLength);
  const v2 = info.v2 === undefined ? undefined : v2Hashing(info, info.v2, layout.pieceCount);
  const partsDir = partsDirectory(options.resumePath, options.directory, info.infoHash);
  const parts = new PartFiles(options.fs, partsDir, layout, options.directory);
  const store = new PieceStore({
    fs: options.fs,
    directory: options.directory,
    layout,
    pieceHashes: info.pieceHashes,
    ...(v2 !== undefined ? { hashing: v2.hashing } : {}),
    onPieceChanged: (_piece, error) => options.onPieceChanged(error),
    parts,
  });
  const selection = new FileSelection(options.priorities);
  // An unselected file not on disk is never created there: its shared bytes go to a part file.
  for (const [i, p] of options.priorities.entries()) {
    if (
      p === 'skip' &&
      !layout.files[i]!.padding &&
      (await options.fs.lstat(store.diskPath(i))) === undefined
    )
      parts.park(i);
  }
  const lock = options.lock ? await lockTorrentFiles(options.directory, store.paths) : undefined;
  const picker = new PiecePicker({
    pieceCount: layout.pieceCount,
    pieceLength: layout.pieceLength,
    totalLength: layout.totalLength,
    random: options.random,
    sequential: options.sequential,
  });
  try {
    const have = await options.resume.initialPieces(store, info);
    const geometry = torrentGeometry(layout.totalLength, layout.pieceLength);
    const pieceLayers = v2 !== undefined ? { pieceLayers: v2.layers } : {};
    const content: Content = { picker, store, have, geometry, ...pieceLayers };
    selection.apply(content);
    for (const index of have.indices()) picker.setHave(index);
    return { content, lock, selection };
  } catch (error) {
    await store.close();
    await lock?.release();
    throw error;
  }
}
