/**
 * A torrent's content once its info dictionary is known: the files on disk (created safely under
 * the download directory, locked against a second writer), the pieces already verified, and the
 * picker seeded with them.
 */
import type { Random } from '@peerkit/transport';
import { PiecePicker } from './picker';
import type { Content } from './session/peer-host';
import type { FileSystem } from './storage/file-system';
import { FileLayout } from './storage/layout';
import { lockTorrentFiles, type StorageLock } from './storage/lock';
import { PieceStore } from './storage/piece-store';
import type { TorrentInfo } from './torrent-info';
import type { ResumeSaver } from './torrent-resume';
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
}

/** Opens the content of `info`; on failure nothing stays open or locked. */
export async function openContent(
  info: TorrentInfo,
  options: OpenContentOptions,
): Promise<{ content: Content; lock: StorageLock | undefined }> {
  const layout = new FileLayout(info.files, info.pieceLength);
  const v2 = info.v2 === undefined ? undefined : v2Hashing(info, info.v2, layout.pieceCount);
  const store = new PieceStore({
    fs: options.fs,
    directory: options.directory,
    layout,
    pieceHashes: info.pieceHashes,
    ...(v2 !== undefined ? { hashing: v2.hashing } : {}),
    onPieceChanged: (_piece, error) => options.onPieceChanged(error),
  });
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
    for (const index of have.indices()) picker.setHave(index);
    const geometry = torrentGeometry(layout.totalLength, layout.pieceLength);
    const pieceLayers = v2 !== undefined ? { pieceLayers: v2.layers } : {};
    return { content: { picker, store, have, geometry, ...pieceLayers }, lock };
  } catch (error) {
    await store.close();
    await lock?.release();
    throw error;
  }
}
