/**
 * `peerkit-share create <path>`: write a .torrent for a file or folder (BEP 3, BEP 12; `--v2` and
 * `--hybrid`: BEP 52).
 * Hashing reports its progress and stops between two chunks when its `signal` is aborted
 * (Ctrl-C), without writing anything; an existing .torrent is kept unless `force` is given.
 */
import { stat, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  createTorrent,
  createTorrentV2,
  type FileContent,
  formatMagnet,
  type Metainfo,
  magnetFromMetainfo,
  type TorrentInputFile,
  torrentFilesFromPath,
} from '@peerkit/piece-exchange';
import { CliError, describeError, errorCode } from '../errors';

/** How far hashing has got: bytes read so far of `length`. */
export interface HashProgress {
  readonly name: string;
  readonly hashed: number;
  readonly length: number;
}

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
  /** BEP 3 `creation date`, seconds since the epoch (default: now; `null`: left out). */
  creationDate?: number | null;
  /** Called as hashing goes (after each chunk read, ~1 MiB). */
  onProgress?: (progress: HashProgress) => void;
  /** Aborting it stops hashing between two chunks; the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overwrite an existing `out` (default: refuse with `EXISTS`). */
  force?: boolean;
  /**
   * BEP 52: `v1` (default), `v2` (merkle hashes only) or `hybrid` (both, with BEP 47 pad files),
   * laid out as libtorrent 2.0 creates them.
   */
  version?: 'v1' | 'v2' | 'hybrid';
}

/** `content` read chunk by chunk, counting into `progress`, stopping when `signal` aborts. */
function watched(
  content: FileContent,
  count: (bytes: number) => void,
  signal: AbortSignal | undefined,
): FileContent {
  if (content instanceof Uint8Array) {
    signal?.throwIfAborted();
    count(content.length);
    return content;
  }
  return async function* () {
    for await (const chunk of content()) {
      signal?.throwIfAborted();
      count(chunk.length);
      yield chunk;
    }
  };
}

export interface MadeTorrent {
  bytes: Uint8Array;
  metainfo: Metainfo;
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
  const found = await torrentFilesFromPath(resolve(options.path));
  const name = options.name ?? found.name;
  const length = found.files.reduce((n, f) => n + f.length, 0);
  let hashed = 0;
  const count = (bytes: number) => {
    hashed += bytes;
    options.onProgress?.({ name, hashed, length });
  };
  options.onProgress?.({ name, hashed, length });
  const files: TorrentInputFile[] = found.files.map((f) => ({
    ...f,
    content: watched(f.content, count, options.signal),
  }));
  const creationDate =
    options.creationDate === null
      ? undefined
      : (options.creationDate ?? Math.floor(Date.now() / 1000));
  try {
    const version = options.version ?? 'v1';
    const create = (...args: Parameters<typeof createTorrent>) =>
      version === 'v1'
        ? createTorrent(...args)
        : createTorrentV2(args[0], { ...args[1], hybrid: version === 'hybrid' });
    const { torrent, metainfo } = await create(files, {
      name,
      ...(options.pieceLength !== undefined ? { pieceLength: options.pieceLength } : {}),
      ...(options.trackers !== undefined ? { trackers: options.trackers } : {}),
      ...(options.private ? { private: true } : {}),
      ...(options.comment !== undefined ? { comment: options.comment } : {}),
      createdBy: 'peerkit-share 0.1',
      ...(creationDate !== undefined ? { creationDate } : {}),
    });
    return { bytes: torrent, metainfo, magnet: formatMagnet(magnetFromMetainfo(metainfo)) };
  } catch (error) {
    // Ctrl-C: the signal's reason, as it is (the caller knows it asked for it).
    if (options.signal?.aborted && error === options.signal.reason) throw error;
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
  const planned =
    options.out ?? `${basename(options.name ?? basename(resolve(options.path)))}.torrent`;
  // Checked before hashing too, so that a long hash is not wasted on a refusal.
  if (!options.force) await refuseExisting(planned);
  const made = await makeTorrent(options);
  const out = options.out ?? `${basename(made.metainfo.name)}.torrent`;
  try {
    // `wx`: never replace a file that appeared meanwhile, unless --force.
    await writeFile(out, made.bytes, { flag: options.force ? 'w' : 'wx' });
  } catch (error) {
    if (errorCode(error) === 'EEXIST') throw existsError(out);
    throw new CliError('MISSING_PATH', `cannot write ${out}: ${describeError(error)}`, {
      cause: error,
    });
  }
  return { ...made, out };
}

function existsError(path: string): CliError {
  return new CliError('EXISTS', `${path} already exists (use --force to overwrite it)`);
}

async function refuseExisting(path: string): Promise<void> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (exists) throw existsError(path);
}
