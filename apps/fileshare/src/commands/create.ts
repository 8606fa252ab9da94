/** `peerkit-share create <path>`: write a v1 .torrent for a file or folder (BEP 3, BEP 12). */
import { stat, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  createTorrent,
  formatMagnet,
  magnetFromMetainfo,
  torrentFilesFromPath,
  type V1Metainfo,
} from '@peerkit/piece-exchange';
import { CliError, describeError, errorCode } from '../errors';

export interface CreateOptions {
  /** File or folder to describe. */
  path: string;
  /** Where to write the .torrent (default `<name>.torrent` in the current directory). */
  out?: string;
  /** A power of two ≥ 16 KiB (default: chosen for ~1000-2000 pieces). */
  pieceLength?: number;
  /** Torrent name (default: the file or folder name). */
  name?: string;
  /** Tracker URLs, one tier each. */
  trackers?: readonly string[];
  private?: boolean;
  comment?: string;
}

export interface MadeTorrent {
  bytes: Uint8Array;
  metainfo: V1Metainfo;
  magnet: string;
}

/** Hashes the content under `path` into a .torrent (not written). */
export async function makeTorrent(options: Omit<CreateOptions, 'out'>): Promise<MadeTorrent> {
  try {
    await stat(options.path);
  } catch (error) {
    throw new CliError('MISSING_PATH', `no such file or directory: ${options.path}`, {
      cause: error,
    });
  }
  const { name, files } = await torrentFilesFromPath(resolve(options.path));
  try {
    const { torrent, metainfo } = await createTorrent(files, {
      name: options.name ?? name,
      ...(options.pieceLength !== undefined ? { pieceLength: options.pieceLength } : {}),
      ...(options.trackers !== undefined ? { trackers: options.trackers } : {}),
      ...(options.private ? { private: true } : {}),
      ...(options.comment !== undefined ? { comment: options.comment } : {}),
      createdBy: 'peerkit-share 0.1',
    });
    return { bytes: torrent, metainfo, magnet: formatMagnet(magnetFromMetainfo(metainfo)) };
  } catch (error) {
    throw new CliError(
      'INVALID_OPTION',
      `cannot create a torrent from ${options.path}: ${describeError(error)} (${errorCode(error)})`,
      {
        cause: error,
      },
    );
  }
}

/** Creates and writes the .torrent; resolves with where it went. */
export async function createTorrentFile(
  options: CreateOptions,
): Promise<MadeTorrent & { out: string }> {
  const made = await makeTorrent(options);
  const out = options.out ?? `${basename(made.metainfo.name)}.torrent`;
  try {
    await writeFile(out, made.bytes);
  } catch (error) {
    throw new CliError('MISSING_PATH', `cannot write ${out}: ${describeError(error)}`, {
      cause: error,
    });
  }
  return { ...made, out };
}
